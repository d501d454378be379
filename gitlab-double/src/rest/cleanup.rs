//! Bulk tag deletion (`DELETE …/registry/repositories/:id/tags`): GitLab's CleanupTagsService,
//! implemented independently of the dashboard's own preview engine.
//!
//! Per repository, in order: drop `latest`; keep candidates matching `\A<delete>\z` and not
//! `\A<keep>\z` (the pattern is pasted in without parentheses, so `a|b` means "starts with a or
//! ends with b"); if `keep_n`, sort by timestamp newest first (no timestamp = now) and keep the
//! first n; if `older_than`, delete only tags with a timestamp strictly older than
//! now − older_than; skip protected tags. With the metadata database the steps run per page of
//! 1,000 tags (sorted by name) and the timestamp is the publish time; without it, the image
//! config's creation time.

use regex::Regex;
use time::{Duration, OffsetDateTime};

use crate::model::{Project, Repository, TagView, World};
use crate::state::Double;

/// Tags per page the metadata-database cleanup works on.
pub(crate) const TAGS_PAGE_SIZE: usize = 1_000;

/// Parameters of a bulk deletion.
#[derive(Debug, Clone, Default)]
pub(crate) struct CleanupParams {
    pub name_regex_delete: Option<String>,
    pub name_regex_keep: Option<String>,
    pub keep_n: Option<i64>,
    pub older_than: Option<String>,
}

/// Why a cleanup deleted nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CleanupFailure {
    InvalidRegex,
    InvalidOlderThan,
    InvalidKeepN,
}

/// ChronicDuration-style durations: `1h`, `7d`, `2 weeks`, `1month`, `90 days`, `1y`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds_per = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "wk" | "wks" | "week" | "weeks" => 604_800.0,
        "mo" | "mos" | "month" | "months" => 2_592_000.0,
        "y" | "yr" | "yrs" | "year" | "years" => 31_557_600.0,
        _ => return None,
    };
    Some(Duration::seconds_f64(number * seconds_per))
}

/// `\A<pattern>\z`, exactly as GitLab concatenates it.
fn anchored(pattern: &str) -> Option<Regex> {
    Regex::new(&format!(r"\A{pattern}\z")).ok()
}

/// The names the cleanup would delete right now.
pub(crate) fn plan(
    world: &World,
    project: &Project,
    repo: &Repository,
    user: Option<u64>,
    params: &CleanupParams,
    metadata_db: bool,
    now: OffsetDateTime,
) -> Result<Vec<String>, CleanupFailure> {
    let delete = anchored(params.name_regex_delete.as_deref().unwrap_or(""))
        .ok_or(CleanupFailure::InvalidRegex)?;
    let keep = anchored(params.name_regex_keep.as_deref().unwrap_or(""))
        .ok_or(CleanupFailure::InvalidRegex)?;
    let keep_n = match params.keep_n {
        Some(n) if n < 0 => return Err(CleanupFailure::InvalidKeepN),
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        None => None,
    };
    let older_than = match params.older_than.as_deref() {
        Some(text) => Some(parse_duration(text).ok_or(CleanupFailure::InvalidOlderThan)?),
        None => None,
    };
    let views: Vec<TagView> = repo
        .tags
        .values()
        .map(|t| TagView::new(repo, t, metadata_db))
        .collect();
    let page_size = if metadata_db {
        TAGS_PAGE_SIZE
    } else {
        views.len().max(1)
    };
    let mut doomed = Vec::new();
    for page in views.chunks(page_size) {
        let mut candidates: Vec<&TagView> = page
            .iter()
            .filter(|t| t.name != "latest")
            .filter(|t| delete.is_match(&t.name) && !keep.is_match(&t.name))
            .collect();
        if let Some(n) = keep_n {
            // sort_by(timestamp || now).reverse: newest first, ties in reverse name order.
            candidates.sort_by_key(|t| t.cleanup_timestamp(metadata_db).unwrap_or(now));
            candidates.reverse();
            candidates = candidates.into_iter().skip(n).collect();
        }
        if let Some(age) = older_than {
            let limit = now - age;
            candidates.retain(|t| {
                t.cleanup_timestamp(metadata_db)
                    .is_some_and(|ts| ts < limit)
            });
        }
        candidates.retain(|t| !world.tag_delete_protected(user, project, &t.name));
        doomed.extend(candidates.into_iter().map(|t| t.name.clone()));
    }
    Ok(doomed)
}

/// Runs a bulk deletion in the background, like GitLab's worker.
pub(crate) fn run_cleanup(double: Double, repository_id: u64, user: u64, params: CleanupParams) {
    tokio::spawn(async move {
        // The worker picks the job up a moment after the API answered 202.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let world = double.world();
        let Some(repo) = world.repositories.get(&repository_id) else {
            return;
        };
        let Some(project) = world.project(repo.project_id) else {
            return;
        };
        let now = OffsetDateTime::now_utc();
        match plan(
            &world,
            project,
            repo,
            Some(user),
            &params,
            double.metadata_db(),
            now,
        ) {
            Ok(names) => {
                let count = names.len();
                double.update_repository(repository_id, |r| {
                    for name in &names {
                        r.tags.remove(name);
                    }
                    r.updated_at = now;
                    r.refresh();
                });
                tracing::info!(repository_id, deleted = count, "bulk tag deletion finished");
            }
            Err(reason) => {
                tracing::warn!(
                    repository_id,
                    ?reason,
                    "bulk tag deletion failed, nothing deleted"
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;

    fn names(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn durations_like_chronic_duration() {
        assert_eq!(parse_duration("1h"), Some(Duration::hours(1)));
        assert_eq!(parse_duration("7d"), Some(Duration::days(7)));
        assert_eq!(parse_duration("1month"), Some(Duration::days(30)));
        assert_eq!(parse_duration("2 weeks"), Some(Duration::days(14)));
        assert_eq!(parse_duration("soon"), None);
    }

    #[test]
    fn never_deletes_latest_and_keep_wins() {
        let now = OffsetDateTime::now_utc();
        let world = World::from_dataset(&Dataset::demo(), now);
        let repo = world.repositories.get(&1).unwrap();
        let project = world.project(repo.project_id).unwrap();
        let params = CleanupParams {
            name_regex_delete: Some(".*".into()),
            name_regex_keep: Some("v2.*".into()),
            ..Default::default()
        };
        let doomed = plan(&world, project, repo, Some(1), &params, true, now).unwrap();
        assert!(!doomed.contains(&"latest".to_owned()));
        assert!(!doomed.iter().any(|n| n.starts_with("v2")));
        assert!(doomed.contains(&"stable".to_owned()));
        assert_eq!(doomed.len(), repo.tags.len() - 1 - 11);
    }

    #[test]
    fn alternation_is_not_grouped() {
        let now = OffsetDateTime::now_utc();
        let world = World::from_dataset(&Dataset::demo(), now);
        let repo = world.repositories.get(&1).unwrap();
        let project = world.project(repo.project_id).unwrap();
        // `\Amain|stable\z`: everything starting with "main" or ending with "stable".
        let params = CleanupParams {
            name_regex_delete: Some("main|stable".into()),
            ..Default::default()
        };
        let doomed = names(plan(&world, project, repo, Some(1), &params, true, now).unwrap());
        // 19 `main-<sha>`, the `main` branch tag and `stable`.
        assert_eq!(doomed.len(), 19 + 1 + 1);
        assert!(doomed.contains(&"main".to_owned()));
        assert!(doomed.contains(&"stable".to_owned()));
    }

    #[test]
    fn keep_n_keeps_the_newest_and_older_than_needs_a_timestamp() {
        let now = OffsetDateTime::now_utc();
        let world = World::from_dataset(&Dataset::demo(), now);
        let repo = world.repositories.get(&1).unwrap();
        let project = world.project(repo.project_id).unwrap();
        let params = CleanupParams {
            name_regex_delete: Some("main-.*".into()),
            keep_n: Some(5),
            ..Default::default()
        };
        let doomed = plan(&world, project, repo, Some(1), &params, true, now).unwrap();
        assert_eq!(doomed.len(), 14);
        let newest = repo
            .tags
            .values()
            .filter(|t| t.name.starts_with("main-"))
            .max_by_key(|t| t.pushed_at)
            .unwrap();
        assert!(!doomed.contains(&newest.name));
        let params = CleanupParams {
            name_regex_delete: Some(".*".into()),
            older_than: Some("1d".into()),
            ..Default::default()
        };
        // Without the metadata database index tags have no timestamp and are kept: only the
        // single-platform images go (the `edge-<sha>` builds and the imported `0.0.x`).
        let cli = world.repositories.get(&7).unwrap();
        let cli_project = world.project(cli.project_id).unwrap();
        let doomed = plan(&world, cli_project, cli, Some(1), &params, false, now).unwrap();
        let imported = doomed.iter().filter(|n| n.starts_with("0.0.")).count();
        assert_eq!(imported, 8, "{doomed:?}");
        assert!(
            doomed
                .iter()
                .all(|n| n.starts_with("edge-") || n.starts_with("0.0.")),
            "{doomed:?}"
        );
        assert!(plan(
            &world,
            cli_project,
            cli,
            Some(1),
            &CleanupParams {
                older_than: Some("whenever".into()),
                ..params
            },
            false,
            now
        )
        .is_err());
    }
}
