//! A group's cleanup policies side by side: every project of the group and its subgroups
//! (or, for an instance administrator, of the whole instance) with its policy in short, its
//! next run, its repositories' last cleanups and counts, and, when the page names a standard
//! policy, how each project's policy differs from it.
//!
//! How a page is made:
//! 1. The server reads the group's projects (subgroups included) in GraphQL pages, the
//!    policy, the repositories with their cleanup status and the protection rules in the same
//!    query, into [`ProjectPolicy`] values.
//! 2. [`GroupPolicies::new`] compares each project with the view's standard policy field by
//!    field ([`drift`]). Below Maintainer GitLab shows only whether a policy is on and when it
//!    runs next, so such a project's drift is [`Drift::Unknown`], never "same".
//! 3. It keeps the projects the view asks for (search in the path, policy on or off,
//!    drifting only) and sorts them: by path; most tags; largest; soonest next run (none
//!    last); most differing fields. Ties go by path, so the order is total.
//!
//! The standard travels in the URL as `std_<field>` pairs (`std_enabled=1&std_cadence=7d…`),
//! the same fields and values as the policy editor's, so a shared link shows the same drift.

use crate::cleanup::{anchored_regex, CleanupPolicy, PolicyField, SavedPolicy};
use crate::view::{clean_search, Notice, UrlNote, MAX_VIEW_QUERY_LEN};
use crate::{format, query, AccessLevel, GroupDetails};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::fmt;

pub mod apply;

/// Prefix of the standard policy's fields in the URL.
const STANDARD_PREFIX: &str = "std_";

/// How the projects of a group's policy page are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PoliciesSort {
    /// By full path.
    #[default]
    Path,
    /// Most tags first.
    Tags,
    /// Largest registry first (where GitLab knows sizes).
    Size,
    /// Soonest next run first; projects without one last.
    NextRun,
    /// Most fields differing from the standard first; unknown drift after those.
    Drift,
}

impl PoliciesSort {
    pub const ALL: [PoliciesSort; 5] = [
        PoliciesSort::Path,
        PoliciesSort::Tags,
        PoliciesSort::Size,
        PoliciesSort::NextRun,
        PoliciesSort::Drift,
    ];

    pub fn as_param(self) -> &'static str {
        match self {
            PoliciesSort::Path => "path",
            PoliciesSort::Tags => "tags",
            PoliciesSort::Size => "size",
            PoliciesSort::NextRun => "next_run",
            PoliciesSort::Drift => "drift",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        PoliciesSort::ALL
            .into_iter()
            .find(|s| s.as_param() == value.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            PoliciesSort::Path => "Project path",
            PoliciesSort::Tags => "Most tags",
            PoliciesSort::Size => "Largest",
            PoliciesSort::NextRun => "Next run",
            PoliciesSort::Drift => "Most drift",
        }
    }
}

/// The URL state of a group's policy page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupPoliciesView {
    /// Text the project's path must contain (case-insensitive).
    pub search: String,
    /// Only projects whose policy is on (`Some(true)`) or off.
    pub enabled: Option<bool>,
    /// Only projects that differ from the standard (or whose drift is unknown).
    pub drifting: bool,
    pub sort: PoliciesSort,
    /// The policy every project is compared with.
    pub standard: Option<CleanupPolicy>,
}

crate::view_serde_as_query!(GroupPoliciesView);

impl GroupPoliciesView {
    /// Reads the view from URL query pairs; never fails. A standard GitLab would refuse (a
    /// keep_n it does not offer, a regex that does not compile) is dropped with a notice.
    pub fn from_pairs(pairs: &[(String, String)]) -> (Self, Vec<Notice>) {
        let mut notices = Vec::new();
        let mut view = GroupPoliciesView::default();
        let mut standard = Vec::new();
        for (key, value) in pairs {
            if let Some(field) = key.strip_prefix(STANDARD_PREFIX) {
                standard.push((field.to_string(), value.clone()));
                continue;
            }
            match key.as_str() {
                "q" => view.search = clean_search(value, &mut notices),
                "policy" => match value.trim() {
                    "" => view.enabled = None,
                    "on" => view.enabled = Some(true),
                    "off" => view.enabled = Some(false),
                    _ => notices.push(Notice::from(UrlNote::UnknownPolicyFilter {
                        value: value.clone(),
                    })),
                },
                "drift" => view.drifting = matches!(value.trim(), "1" | "true" | "on"),
                "sort" => match PoliciesSort::from_param(value) {
                    Some(sort) => view.sort = sort,
                    None => notices.push(Notice::from(UrlNote::UnknownSort {
                        value: value.clone(),
                        instead: PoliciesSort::default().label().to_string(),
                    })),
                },
                _ => {}
            }
        }
        if !standard.is_empty() {
            view.standard = read_standard(&standard, &mut notices);
        }
        if view.to_query().len() > MAX_VIEW_QUERY_LEN {
            // Only a typed URL gets here (the forms' fields are shorter): the view must still
            // travel to the server as data.
            view.standard = None;
            notices.push(Notice::from(UrlNote::UnusableStandard {
                message: format!(
                    "the link is longer than the {MAX_VIEW_QUERY_LEN} characters a view may \
                     have."
                ),
            }));
        }
        if view.drifting && view.standard.is_none() {
            view.drifting = false;
            notices.push(Notice::from(UrlNote::DriftWithoutStandard));
        }
        (view, notices)
    }

    /// The canonical query string (`""` for the default view).
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if !self.search.is_empty() {
            pairs.push(("q".into(), self.search.clone()));
        }
        if let Some(enabled) = self.enabled {
            pairs.push(("policy".into(), if enabled { "on" } else { "off" }.into()));
        }
        if self.drifting {
            pairs.push(("drift".into(), "1".into()));
        }
        if self.sort != PoliciesSort::default() {
            pairs.push(("sort".into(), self.sort.as_param().into()));
        }
        if let Some(standard) = &self.standard {
            pairs.extend(standard_pairs(standard));
        }
        query::build(
            &pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect::<Vec<_>>(),
        )
    }

    /// The same view without its standard.
    pub fn without_standard(&self) -> Self {
        GroupPoliciesView {
            standard: None,
            drifting: false,
            ..self.clone()
        }
    }

    /// The view's pairs a form must carry besides its own fields: the filters for the
    /// standard's form (`standard: false`), or the standard for the filters' form.
    pub fn kept_pairs(&self, standard: bool) -> Vec<(String, String)> {
        query::parse(&self.to_query())
            .into_iter()
            .filter(|(k, _)| k.starts_with(STANDARD_PREFIX) == standard)
            .collect()
    }
}

/// The standard's `std_<field>` pairs, in the policy's canonical order.
fn standard_pairs(standard: &CleanupPolicy) -> Vec<(String, String)> {
    query::parse(&standard.to_query())
        .into_iter()
        .map(|(k, v)| (format!("{STANDARD_PREFIX}{k}"), v))
        .collect()
}

/// The standard from its `std_` fields, on top of GitLab's form defaults with the policy
/// enabled; `None` with a notice when GitLab would refuse it.
fn read_standard(fields: &[(String, String)], notices: &mut Vec<Notice>) -> Option<CleanupPolicy> {
    let base = CleanupPolicy {
        enabled: true,
        ..CleanupPolicy::default()
    };
    let (policy, field_notices) = CleanupPolicy::from_pairs(fields, &base);
    if !field_notices.is_empty() {
        let message = field_notices
            .iter()
            .map(|n| n.message.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        notices.push(Notice::from(UrlNote::UnusableStandard { message }));
        return None;
    }
    let checked = policy.checked().and_then(|policy| {
        for (field, regex) in [
            (PolicyField::NameRegex, &policy.name_regex),
            (PolicyField::NameRegexKeep, &policy.name_regex_keep),
        ] {
            if let Some(regex) = regex {
                anchored_regex(regex, field)?;
            }
        }
        Ok(policy)
    });
    match checked {
        Ok(policy) => Some(policy),
        Err(error) => {
            notices.push(Notice::from(UrlNote::UnusableStandard {
                message: error.message,
            }));
            None
        }
    }
}

/// What GitLab says about a project's policy, as far as the viewer may read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "visible", rename_all = "snake_case")]
pub enum PolicyFacts {
    /// Maintainers and owners read the whole policy.
    Whole(SavedPolicy),
    /// Below Maintainer GitLab tells only whether it is on and when it runs next.
    Summary {
        enabled: bool,
        next_run_at: Option<String>,
    },
    /// GitLab shows nothing of it (the viewer may not read the project's registry, or the
    /// registry is off).
    Hidden,
}

impl PolicyFacts {
    /// Whether the policy runs; `None` where GitLab does not say.
    pub fn enabled(&self) -> Option<bool> {
        match self {
            PolicyFacts::Whole(saved) => Some(saved.policy.enabled),
            PolicyFacts::Summary { enabled, .. } => Some(*enabled),
            PolicyFacts::Hidden => None,
        }
    }

    pub fn next_run_at(&self) -> Option<&str> {
        match self {
            PolicyFacts::Whole(saved) => saved.next_run_at.as_deref(),
            PolicyFacts::Summary { next_run_at, .. } => next_run_at.as_deref(),
            PolicyFacts::Hidden => None,
        }
    }

    /// The whole policy, when the viewer may read it.
    pub fn policy(&self) -> Option<&CleanupPolicy> {
        match self {
            PolicyFacts::Whole(saved) => Some(&saved.policy),
            PolicyFacts::Summary { .. } | PolicyFacts::Hidden => None,
        }
    }
}

/// The last cleanups of a project's repositories, added up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastCleanups {
    /// Repositories waiting for a cleanup GitLab has scheduled.
    pub scheduled: u32,
    /// Repositories being cleaned up now.
    pub ongoing: u32,
    /// Repositories whose last cleanup stopped before the end (GitLab continues it).
    pub unfinished: u32,
    /// When the latest cleanup of any repository started.
    pub last_started_at: Option<String>,
    /// Tags the repositories' last cleanups deleted, together.
    pub deleted_last_time: u64,
}

/// One project of a group, as the policy page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectPolicy {
    pub id: u64,
    pub name: String,
    pub full_path: String,
    pub web_url: String,
    /// The viewer's role in the project (unknown before GitLab 16.9).
    pub access: Option<AccessLevel>,
    pub policy: PolicyFacts,
    /// Image repositories, as GitLab counts them.
    pub repositories: u32,
    /// Repositories whose counts and cleanups were read (GitLab's first page of them).
    pub repositories_read: u32,
    /// Tags of the repositories read.
    pub tags: u64,
    /// The registry's deduplicated size, when GitLab computes it (metadata database).
    pub size: Option<u64>,
    /// Protection rules (repository and tag), when the viewer may read them.
    pub protection_rules: Option<u32>,
    pub cleanups: LastCleanups,
}

/// A policy field, as drift names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DriftField {
    Enabled,
    Cadence,
    KeepN,
    OlderThan,
    NameRegex,
    NameRegexKeep,
}

impl DriftField {
    /// The field's name on GitLab's settings page.
    pub fn label(self) -> &'static str {
        match self {
            DriftField::Enabled => "on/off",
            DriftField::Cadence => "cadence",
            DriftField::KeepN => "keep",
            DriftField::OlderThan => "older than",
            DriftField::NameRegex => "delete regex",
            DriftField::NameRegexKeep => "keep regex",
        }
    }

    /// GitLab's parameter name.
    pub fn as_param(self) -> &'static str {
        match self {
            DriftField::Enabled => "enabled",
            DriftField::Cadence => "cadence",
            DriftField::KeepN => "keep_n",
            DriftField::OlderThan => "older_than",
            DriftField::NameRegex => "name_regex",
            DriftField::NameRegexKeep => "name_regex_keep",
        }
    }
}

/// How a project's policy compares with the standard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Drift {
    /// Every field is the standard's.
    Same,
    /// These fields differ, in GitLab's order.
    Differs { fields: Vec<DriftField> },
    /// The viewer may not read the policy's fields (below Maintainer).
    Unknown,
}

impl Drift {
    /// Whether the project may differ from the standard (differs, or unknown).
    pub fn drifts(&self) -> bool {
        !matches!(self, Drift::Same)
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Same => f.write_str("Same as the standard"),
            Drift::Differs { fields } => {
                let labels: Vec<&str> = fields.iter().map(|d| d.label()).collect();
                write!(f, "Differs: {}", labels.join(", "))
            }
            Drift::Unknown => f.write_str("Unknown: only Maintainers see the policy's fields"),
        }
    }
}

/// Which fields of `policy` differ from `standard`. Regexes compare as written (an empty
/// one is none): GitLab stores and applies the text, so two spellings of the same set are
/// still drift. A policy GitLab holds with a value the dashboard could not read as it is
/// (its notes say which) has an unknown drift.
pub fn drift(standard: &CleanupPolicy, facts: &PolicyFacts) -> Drift {
    let PolicyFacts::Whole(saved) = facts else {
        return Drift::Unknown;
    };
    if !saved.notes.is_empty() {
        return Drift::Unknown;
    }
    let policy = &saved.policy;
    fn regex(r: &Option<String>) -> Option<&str> {
        r.as_deref().filter(|r| !r.is_empty())
    }
    let fields: Vec<DriftField> = [
        (DriftField::Enabled, policy.enabled != standard.enabled),
        (DriftField::Cadence, policy.cadence != standard.cadence),
        (DriftField::KeepN, policy.keep_n != standard.keep_n),
        (
            DriftField::OlderThan,
            policy.older_than != standard.older_than,
        ),
        (
            DriftField::NameRegex,
            regex(&policy.name_regex) != regex(&standard.name_regex),
        ),
        (
            DriftField::NameRegexKeep,
            regex(&policy.name_regex_keep) != regex(&standard.name_regex_keep),
        ),
    ]
    .into_iter()
    .filter_map(|(field, differs)| differs.then_some(field))
    .collect();
    if fields.is_empty() {
        Drift::Same
    } else {
        Drift::Differs { fields }
    }
}

/// A policy in a few words: "Every week · keep 10 · older than 30 days · delete .* · except
/// v.*".
pub fn short(policy: &CleanupPolicy) -> String {
    let mut parts = vec![policy.cadence.label().to_string()];
    if let Some(n) = policy.keep_n {
        parts.push(format!("keep {n}"));
    }
    if let Some(o) = policy.older_than {
        parts.push(format!("older than {} days", o.days()));
    }
    match policy.name_regex.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => parts.push(format!("delete {r}")),
        None => parts.push("deletes nothing (no delete regex)".into()),
    }
    if let Some(r) = policy.name_regex_keep.as_deref().filter(|r| !r.is_empty()) {
        parts.push(format!("except {r}"));
    }
    parts.join(" · ")
}

/// One row of the page: a project and its drift from the standard (none without one).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyRow {
    pub project: ProjectPolicy,
    pub drift: Option<Drift>,
}

/// Counts over every project read, before the view's filters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoliciesSummary {
    pub projects: u32,
    pub enabled: u32,
    pub with_images: u32,
    /// Projects that differ from the standard, or whose drift is unknown.
    pub drifting: u32,
    /// Projects whose drift is unknown to this viewer.
    pub unknown: u32,
}

/// A group's policy page: the projects the view keeps, in its order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupPolicies {
    /// The group whose projects (subgroups included) these are; `None`: every project of
    /// the instance (its administrators' page).
    pub group: Option<GroupDetails>,
    pub rows: Vec<PolicyRow>,
    pub summary: PoliciesSummary,
    /// The standard the drift is measured against.
    pub standard: Option<CleanupPolicy>,
    /// Set when the group has more projects than were read (the configured bound).
    pub truncated_at: Option<u32>,
    /// Unix seconds when the page was made.
    pub now: i64,
}

impl GroupPolicies {
    /// Compares, filters and sorts the projects read for `view` (the module docs say how).
    pub fn new(
        group: Option<GroupDetails>,
        projects: Vec<ProjectPolicy>,
        view: &GroupPoliciesView,
        truncated_at: Option<u32>,
        now: i64,
    ) -> Self {
        let mut summary = PoliciesSummary::default();
        let search = view.search.to_lowercase();
        let mut rows: Vec<PolicyRow> = Vec::new();
        for project in projects {
            let drift = view.standard.as_ref().map(|s| drift(s, &project.policy));
            summary.projects += 1;
            summary.enabled += u32::from(project.policy.enabled() == Some(true));
            summary.with_images += u32::from(project.repositories > 0);
            summary.drifting += u32::from(drift.as_ref().is_some_and(Drift::drifts));
            summary.unknown += u32::from(drift == Some(Drift::Unknown));
            let kept = (search.is_empty() || project.full_path.to_lowercase().contains(&search))
                && view
                    .enabled
                    .is_none_or(|on| project.policy.enabled() == Some(on))
                && (!view.drifting || drift.as_ref().is_some_and(Drift::drifts));
            if kept {
                rows.push(PolicyRow { project, drift });
            }
        }
        sort_rows(&mut rows, view.sort);
        GroupPolicies {
            group,
            rows,
            summary,
            standard: view.standard.clone(),
            truncated_at,
            now,
        }
    }

    /// The rows as CSV (RFC 4180, a header line first). A cell a spreadsheet would run as a
    /// formula (starting with `=`, `+`, `-`, `@`) gets a leading `'`.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "project,access,enabled,cadence,keep_n,older_than,name_regex,name_regex_keep,\
             next_run_at,repositories,tags,size_bytes,protection_rules,cleanups_scheduled,\
             cleanups_ongoing,cleanups_unfinished,last_cleanup_started_at,\
             deleted_last_time,drift\r\n",
        );
        for row in &self.rows {
            let p = &row.project;
            let policy = p.policy.policy();
            let field = |f: fn(&CleanupPolicy) -> String| policy.map(f).unwrap_or_default();
            let drift = match &row.drift {
                None => String::new(),
                Some(Drift::Same) => "same".into(),
                Some(Drift::Unknown) => "unknown".into(),
                Some(Drift::Differs { fields }) => fields
                    .iter()
                    .map(|f| f.as_param())
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            let cells = [
                p.full_path.clone(),
                p.access
                    .map(|a| a.label().to_lowercase())
                    .unwrap_or_default(),
                p.policy
                    .enabled()
                    .map(|on| on.to_string())
                    .unwrap_or_default(),
                field(|p| p.cadence.as_param().into()),
                field(|p| p.keep_n.map(|n| n.to_string()).unwrap_or_default()),
                field(|p| {
                    p.older_than
                        .map(|o| o.as_param().into())
                        .unwrap_or_default()
                }),
                field(|p| p.name_regex.clone().unwrap_or_default()),
                field(|p| p.name_regex_keep.clone().unwrap_or_default()),
                p.policy.next_run_at().unwrap_or_default().to_string(),
                p.repositories.to_string(),
                p.tags.to_string(),
                p.size.map(|s| s.to_string()).unwrap_or_default(),
                p.protection_rules
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                p.cleanups.scheduled.to_string(),
                p.cleanups.ongoing.to_string(),
                p.cleanups.unfinished.to_string(),
                p.cleanups.last_started_at.clone().unwrap_or_default(),
                p.cleanups.deleted_last_time.to_string(),
                drift,
            ];
            let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// "3 projects · 2 with a policy on · 1 differs from the standard".
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let mut parts = vec![
            format::plural(u64::from(s.projects), "project", "projects"),
            format!("{} with images", format::count(u64::from(s.with_images))),
            format!("{} with the policy on", format::count(u64::from(s.enabled))),
        ];
        if self.standard.is_some() {
            let known = s.drifting - s.unknown;
            parts.push(format!(
                "{} {} from the standard",
                format::count(u64::from(known)),
                if known == 1 { "differs" } else { "differ" }
            ));
            if s.unknown > 0 {
                parts.push(format!("{} unknown", format::count(u64::from(s.unknown))));
            }
        }
        parts.join(" · ")
    }
}

fn sort_rows(rows: &mut [PolicyRow], sort: PoliciesSort) {
    let path = |r: &PolicyRow| r.project.full_path.to_lowercase();
    match sort {
        PoliciesSort::Path => rows.sort_by_cached_key(path),
        PoliciesSort::Tags => rows.sort_by_cached_key(|r| (Reverse(r.project.tags), path(r))),
        PoliciesSort::Size => {
            rows.sort_by_cached_key(|r| (Reverse(r.project.size.unwrap_or(0)), path(r)))
        }
        PoliciesSort::NextRun => rows.sort_by_cached_key(|r| {
            let next = r
                .project
                .policy
                .next_run_at()
                .and_then(format::parse_timestamp);
            (next.is_none(), next, path(r))
        }),
        PoliciesSort::Drift => rows.sort_by_cached_key(|r| {
            let rank = match &r.drift {
                Some(Drift::Differs { fields }) => Reverse(fields.len() + 1),
                Some(Drift::Unknown) => Reverse(1),
                Some(Drift::Same) | None => Reverse(0),
            };
            (rank, path(r))
        }),
    }
}

/// One CSV cell: quoted when it holds a comma, quote or line break; a leading `'` when a
/// spreadsheet would read it as a formula.
fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests;
