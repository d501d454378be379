//! The project's protection rules beside its cleanup policy: tag rules (which the preview
//! honours at once) and repository rules, listed for everyone who may see them and edited by
//! Maintainers with GitLab's limits checked as they type.

use domain::cleanup::CleanupOverview;
use domain::format;
use domain::protection::{
    repository_pattern_matches, tag_pattern, ProtectionRules, RepositoryRuleDraft, RuleChange,
    RuleError, RuleField, TagRuleDraft, MAX_REPOSITORY_PATTERN, MAX_RULES, MAX_TAG_PATTERN,
    RULE_LEVELS,
};
use domain::AccessLevel;
use leptos::prelude::*;

use crate::components::{focus_on_mount, use_hydrated};
use crate::server_fns::cleanup::change_protection_rule;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tag,
    Repository,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Tag => "tag",
            Kind::Repository => "repository",
        }
    }
}

/// A rule as the panel lists and edits it (levels optional for repository rules).
#[derive(Clone, PartialEq)]
struct Row {
    kind: Kind,
    id: u64,
    pattern: String,
    push: Option<AccessLevel>,
    delete: Option<AccessLevel>,
    /// GitLab's immutable-tag rule: listed, never edited here.
    immutable: bool,
}

fn rows(rules: &ProtectionRules, kind: Kind) -> Vec<Row> {
    match kind {
        Kind::Tag => rules
            .tag
            .iter()
            .map(|r| Row {
                kind,
                id: r.id,
                pattern: r.pattern.clone(),
                push: r.min_push,
                delete: r.min_delete,
                immutable: r.is_immutable(),
            })
            .collect(),
        Kind::Repository => rules
            .repository
            .iter()
            .map(|r| Row {
                kind,
                id: r.id,
                pattern: r.pattern.clone(),
                push: r.min_push,
                delete: r.min_delete,
                immutable: false,
            })
            .collect(),
    }
}

fn level_label(kind: Kind, level: Option<AccessLevel>) -> &'static str {
    match (kind, level) {
        (_, Some(level)) => level.label(),
        // A tag rule without levels is immutable: nobody may push or delete.
        (Kind::Tag, None) => "nobody (immutable)",
        (Kind::Repository, None) => "no restriction",
    }
}

fn level_param(level: Option<AccessLevel>) -> &'static str {
    match level {
        Some(AccessLevel::Maintainer) => "maintainer",
        Some(AccessLevel::Owner) => "owner",
        Some(AccessLevel::Admin) => "admin",
        _ => "",
    }
}

/// What a pattern covers in this project right now: tag names, or repository paths.
fn matches(overview: &CleanupOverview, kind: Kind, pattern: &str) -> Result<Vec<String>, String> {
    match kind {
        Kind::Tag => {
            let re = tag_pattern(pattern).map_err(|e| e.message)?;
            let mut names: Vec<String> = overview
                .repositories
                .iter()
                .flat_map(|r| r.tags.iter())
                .filter(|t| re.is_match(t.name.as_bytes()))
                .map(|t| t.name.clone())
                .collect();
            names.sort_unstable();
            names.dedup();
            Ok(names)
        }
        Kind::Repository => Ok(overview
            .repositories
            .iter()
            .filter(|r| repository_pattern_matches(pattern, &r.path))
            .map(|r| r.path.clone())
            .collect()),
    }
}

fn summary(found: &[String], noun: (&str, &str)) -> String {
    if found.is_empty() {
        return format!("Matches no {} now.", noun.0);
    }
    let shown: Vec<&str> = found.iter().take(8).map(String::as_str).collect();
    let more = found.len().saturating_sub(shown.len());
    format!(
        "Matches {}: {}{}",
        format::plural(found.len() as u64, noun.0, noun.1),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

fn nouns(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Tag => ("tag", "tags"),
        Kind::Repository => ("repository", "repositories"),
    }
}

/// The panel. `overview.rules` is replaced with GitLab's answer after every change, so the
/// preview (which reads it) follows at once.
#[component]
pub fn ProtectionRulesPanel(
    instance: String,
    project_path: String,
    overview: RwSignal<CleanupOverview>,
    can_edit: bool,
) -> impl IntoView {
    let rules = Memo::new(move |_| overview.with(|o| o.rules.clone()));
    let note = overview.with_untracked(|o| o.rules_note.clone());
    let confirming = RwSignal::new(None::<(Kind, u64)>);
    let editing = RwSignal::new(None::<Row>);
    // The kind of the last change GitLab accepted: that form empties itself.
    let finished = RwSignal::new(None::<Kind>);
    let hydrated = use_hydrated();
    let editable = can_edit && overview.with_untracked(|o| o.rules.is_some());
    // One change at a time; its value is (kind, what it did in words, GitLab's answer).
    let change = Action::new(move |(change, done): &(RuleChange, String)| {
        let kind = match change {
            RuleChange::CreateTag(_) | RuleChange::UpdateTag(..) | RuleChange::DeleteTag(_) => {
                Kind::Tag
            }
            _ => Kind::Repository,
        };
        let call = change_protection_rule(instance.clone(), project_path.clone(), change.clone());
        let done = done.clone();
        async move { (kind, done, call.await) }
    });
    let busy = change.pending();
    // GitLab's rules after an accepted change replace the page's, so the preview follows.
    Effect::new(move |_| {
        if let Some((kind, _, Ok(fresh))) = change.value().get() {
            overview.update(|o| o.rules = Some(fresh));
            confirming.set(None);
            editing.set(None);
            finished.set(Some(kind));
        }
    });
    // GitLab's answer to the last change, shown under the rules of its kind.
    let status = Memo::new(move |_| {
        change.value().with(|answer| {
            answer.as_ref().map(|(kind, done, result)| {
                let text = match result {
                    Ok(_) => Ok(done.clone()),
                    Err(error) => Err(error.to_string()),
                };
                (*kind, text)
            })
        })
    });
    let send = Callback::new(move |request: (RuleChange, String)| {
        if !busy.get_untracked() {
            change.dispatch(request);
        }
    });
    let status_of = move |kind: Kind| {
        move || {
            status
                .get()
                .filter(|(k, _)| *k == kind)
                .map(|(_, s)| match s {
                    Ok(text) => view! {
                        <p role="status" class="small rule-status">
                            {text}
                        </p>
                    }
                    .into_any(),
                    Err(text) => view! {
                        <p role="alert" class="error-text small">
                            {text}
                        </p>
                    }
                    .into_any(),
                })
        }
    };
    let table = move |kind: Kind| {
        move || {
            let Some(all) = rules.get() else {
                return ().into_any();
            };
            let list = rows(&all, kind);
            let count = list.len();
            let heading = match kind {
                Kind::Tag => "Tag rules",
                Kind::Repository => "Repository rules",
            };
            // A rule's Edit and Delete buttons (Delete asks first), for those who may edit.
            let actions = move |row: &Row| {
                let id = row.id;
                let pattern = row.pattern.clone();
                let edit_row = row.clone();
                let delete_label = format!("Delete rule {}", row.pattern);
                let buttons = move || {
                    if confirming.get() == Some((kind, id)) {
                        let pattern = pattern.clone();
                        let confirm = NodeRef::<leptos::html::Button>::new();
                        focus_on_mount(confirm);
                        view! {
                            <span class="small">"Delete this rule? "</span>
                            <button
                                type="button"
                                class="button danger small"
                                node_ref=confirm
                                disabled=move || busy.get()
                                on:click=move |_| {
                                    send.run((
                                        match kind {
                                            Kind::Tag => RuleChange::DeleteTag(id),
                                            Kind::Repository => RuleChange::DeleteRepository(id),
                                        },
                                        format!("Deleted the {} rule {}.", kind.noun(), pattern),
                                    ))
                                }
                            >
                                "Delete"
                            </button>
                            <button
                                type="button"
                                class="button small"
                                on:click=move |_| confirming.set(None)
                            >
                                "Keep"
                            </button>
                        }
                        .into_any()
                    } else {
                        let edit_row = edit_row.clone();
                        let immutable = edit_row.immutable;
                        let edit_label = format!("Edit rule {}", edit_row.pattern);
                        view! {
                            <button
                                type="button"
                                class="button small"
                                aria-label=edit_label
                                title=immutable
                                    .then_some("Immutable tag rules are managed in GitLab")
                                disabled=move || !hydrated.get() || immutable
                                on:click=move |_| {
                                    change.clear();
                                    editing.set(Some(edit_row.clone()))
                                }
                            >
                                "Edit"
                            </button>
                            <button
                                type="button"
                                class="button small"
                                disabled=move || !hydrated.get()
                                aria-label=delete_label.clone()
                                on:click=move |_| confirming.set(Some((kind, id)))
                            >
                                "Delete"
                            </button>
                        }
                        .into_any()
                    }
                };
                view! {
                    <td>
                        <div class="actions">{buttons}</div>
                    </td>
                }
            };
            view! {
                <h3>{format!("{heading} ({count} of {MAX_RULES})")}</h3>
                {if list.is_empty() {
                    view! { <p class="muted small">{format!("No {} rules.", kind.noun())}</p> }
                        .into_any()
                } else {
                    view! {
                        <table class="data-table rules" data-kind=kind.noun()>
                            <thead>
                                <tr>
                                    <th scope="col">"Pattern"</th>
                                    <th scope="col">"Push needs"</th>
                                    <th scope="col">"Delete needs"</th>
                                    <th scope="col">"Covers now"</th>
                                    {can_edit
                                        .then(|| {
                                            view! {
                                                <th scope="col">
                                                    <span class="visually-hidden">"Actions"</span>
                                                </th>
                                            }
                                        })}
                                </tr>
                            </thead>
                            <tbody>
                                {list
                                    .into_iter()
                                    .map(|row| {
                                        let covered = overview
                                            .with_untracked(|o| matches(o, kind, &row.pattern))
                                            .unwrap_or_default();
                                        let covers = if covered.is_empty() {
                                            view! { <span>{format!("no {}", nouns(kind).1)}</span> }
                                                .into_any()
                                        } else {
                                            let shown = covered
                                                .iter()
                                                .take(50)
                                                .cloned()
                                                .collect::<Vec<_>>()
                                                .join(", ");
                                            let more = (covered.len() > 50).then_some(", …");
                                            view! {
                                                <details class="covers">
                                                    <summary>
                                                        {format::plural(
                                                            covered.len() as u64,
                                                            nouns(kind).0,
                                                            nouns(kind).1,
                                                        )}
                                                    </summary>
                                                    <span>{shown}{more}</span>
                                                </details>
                                            }
                                                .into_any()
                                        };
                                        view! {
                                            <tr data-rule=row.pattern.clone()>
                                                <td>
                                                    <code>{row.pattern.clone()}</code>
                                                </td>
                                                <td>{level_label(kind, row.push)}</td>
                                                <td>{level_label(kind, row.delete)}</td>
                                                <td class="small">{covers}</td>
                                                {can_edit.then(|| actions(&row))}
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                        .into_any()
                }}
            }
            .into_any()
        }
    };
    view! {
        <section class="panel rules-panel" aria-labelledby="rules-title">
            <h2 id="rules-title">"Protection rules"</h2>
            <p class="muted small">
                "GitLab's cleanup skips tags a tag rule protects; a bulk delete skips them when \
                    your role is below the rule's delete level. "
                "Repository rules guard pushing to and deleting whole repositories. At most "
                {MAX_RULES} " of each kind."
            </p>
            {note
                .map(|n| {
                    view! {
                        <p class="muted" data-testid="rules-note">
                            {n}
                        </p>
                    }
                })}
            {table(Kind::Tag)}
            {editable
                .then(|| view! { <RuleForm kind=Kind::Tag overview editing send busy finished /> })}
            {status_of(Kind::Tag)}
            {table(Kind::Repository)}
            {editable
                .then(|| {
                    view! { <RuleForm kind=Kind::Repository overview editing send busy finished /> }
                })}
            {status_of(Kind::Repository)}
        </section>
    }
}

/// Adds a rule of `kind`, or edits the one in `editing` when it is of this kind. Checked with
/// GitLab's rules on every keystroke; the pattern shows what it would cover.
#[component]
fn RuleForm(
    kind: Kind,
    overview: RwSignal<CleanupOverview>,
    editing: RwSignal<Option<Row>>,
    send: Callback<(RuleChange, String)>,
    busy: Memo<bool>,
    finished: RwSignal<Option<Kind>>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let pattern = RwSignal::new(String::new());
    let push = RwSignal::new(Some(AccessLevel::Maintainer));
    let delete = RwSignal::new(Some(AccessLevel::Maintainer));
    let edited = Memo::new(move |_| editing.get().filter(|r| r.kind == kind).map(|r| r.id));
    // Editing a rule of this kind fills the fields; finishing or cancelling that edit, or a
    // rule of this kind being added, empties them. Changes to the other kind leave them be.
    let edited_row = Memo::new(move |_| editing.get().filter(|r| r.kind == kind));
    Effect::new(move |previous: Option<Option<Row>>| {
        let current = edited_row.get();
        let added_here = finished.get() == Some(kind);
        match &current {
            Some(row) => {
                pattern.set(row.pattern.clone());
                push.set(row.push);
                delete.set(row.delete);
            }
            None if added_here || previous.flatten().is_some() => {
                pattern.set(String::new());
                push.set(Some(AccessLevel::Maintainer));
                delete.set(Some(AccessLevel::Maintainer));
            }
            None => {}
        }
        current
    });
    let change = move || -> Result<RuleChange, RuleError> {
        let text = pattern.get().trim().to_string();
        let change = match kind {
            Kind::Tag => {
                let draft = TagRuleDraft {
                    pattern: text,
                    min_push: push.get().unwrap_or(AccessLevel::Maintainer),
                    min_delete: delete.get().unwrap_or(AccessLevel::Maintainer),
                };
                match edited.get() {
                    Some(id) => RuleChange::UpdateTag(id, draft),
                    None => RuleChange::CreateTag(draft),
                }
            }
            Kind::Repository => {
                let draft = RepositoryRuleDraft {
                    pattern: text,
                    min_push: push.get(),
                    min_delete: delete.get(),
                };
                match edited.get() {
                    Some(id) => RuleChange::UpdateRepository(id, draft),
                    None => RuleChange::CreateRepository(draft),
                }
            }
        };
        overview.with(|o| {
            let rules = o.rules.clone().unwrap_or_default();
            change.validate(&rules, &o.project.full_path)
        })?;
        Ok(change)
    };
    let checked = Memo::new(move |_| {
        if pattern.get().trim().is_empty() {
            None
        } else {
            Some(change())
        }
    });
    // Shown in polite live regions: they change as the user types.
    let pattern_error = move || match checked.get() {
        Some(Err(e)) if e.field == Some(RuleField::Pattern) => Some(e.message),
        _ => None,
    };
    let other_error = move || match checked.get() {
        Some(Err(e)) if e.field != Some(RuleField::Pattern) => Some(e.message),
        _ => None,
    };
    let hint_id = format!("{}-pattern-hint", kind.noun());
    let error_id = format!("{}-pattern-error", kind.noun());
    let described_by = format!("{hint_id} {error_id}");
    let coverage = move || {
        let text = pattern.get();
        let text = text.trim();
        if text.is_empty()
            || matches!(checked.get(), Some(Err(ref e)) if e.field == Some(RuleField::Pattern))
        {
            return None;
        }
        let found = overview.with(|o| matches(o, kind, text)).ok()?;
        Some(view! {
            <p class="small muted" data-testid="rule-coverage">
                {summary(&found, nouns(kind))}
            </p>
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(Ok(change)) = checked.get_untracked() {
            let done = match &change {
                RuleChange::CreateTag(d) => format!("Tags matching {} are protected.", d.pattern),
                RuleChange::CreateRepository(d) => {
                    format!("Repositories matching {} are protected.", d.pattern)
                }
                _ => "Rule saved.".to_string(),
            };
            send.run((change, done));
        }
    };
    let level_select = move |label: &'static str, signal: RwSignal<Option<AccessLevel>>| {
        view! {
            <label class="field compact">
                <span>{label}</span>
                <select
                    prop:value=move || level_param(signal.get())
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        signal
                            .set(RULE_LEVELS.into_iter().find(|l| level_param(Some(*l)) == value));
                    }
                >
                    {(kind == Kind::Repository)
                        .then(|| {
                            view! {
                                <option value="" selected=signal.get_untracked().is_none()>
                                    "No restriction"
                                </option>
                            }
                        })}
                    {RULE_LEVELS
                        .into_iter()
                        .map(|level| {
                            view! {
                                <option
                                    value=level_param(Some(level))
                                    selected=signal.get_untracked() == Some(level)
                                >
                                    {level.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
        }
    };
    let repository_placeholder = overview.with_untracked(|o| format!("{}/*", o.project.full_path));
    let (placeholder, max, hint) = match kind {
        Kind::Tag => (
            "^v\\d+\\.\\d+$".to_string(),
            MAX_TAG_PATTERN,
            "RE2, matched anywhere in the tag name (anchor with ^ and $).",
        ),
        Kind::Repository => (
            repository_placeholder,
            MAX_REPOSITORY_PATTERN,
            "A repository path starting with the project's; * matches anything.",
        ),
    };
    let title = move || match (kind, edited.get().is_some()) {
        (Kind::Tag, false) => "Add a tag rule",
        (Kind::Tag, true) => "Edit the tag rule",
        (Kind::Repository, false) => "Add a repository rule",
        (Kind::Repository, true) => "Edit the repository rule",
    };
    view! {
        <form class="rule-form" aria-label=title data-kind=kind.noun() on:submit=submit>
            <fieldset disabled=move || !hydrated.get() || busy.get()>
                <legend class="small">
                    <strong>{title}</strong>
                </legend>
                <label class="field">
                    <span>"Pattern"</span>
                    <input
                        type="text"
                        name="pattern"
                        placeholder=placeholder
                        maxlength=max.to_string()
                        autocomplete="off"
                        spellcheck="false"
                        aria-describedby=described_by
                        aria-invalid=move || pattern_error().is_some().then_some("true")
                        prop:value=move || pattern.get()
                        on:input=move |ev| pattern.set(event_target_value(&ev))
                    />
                </label>
                <p class="small muted hint" id=hint_id>
                    {hint}
                </p>
                <p class="error-text small" id=error_id aria-live="polite" data-testid="rule-error">
                    {pattern_error}
                </p>
                {coverage}
                <div class="row">
                    {level_select("Push needs", push)} {level_select("Delete needs", delete)}
                </div>
                <p class="error-text small" aria-live="polite">
                    {other_error}
                </p>
                <div class="row">
                    <button
                        type="submit"
                        class="button primary small"
                        disabled=move || !matches!(checked.get(), Some(Ok(_)))
                    >
                        {move || if edited.get().is_some() { "Save rule" } else { "Add rule" }}
                    </button>
                    {move || {
                        edited
                            .get()
                            .is_some()
                            .then(|| {
                                view! {
                                    <button
                                        type="button"
                                        class="button small"
                                        on:click=move |_| editing.set(None)
                                    >
                                        "Cancel"
                                    </button>
                                }
                            })
                    }}
                </div>
            </fieldset>
        </form>
    }
}
