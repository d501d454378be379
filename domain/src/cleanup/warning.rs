//! What a draft policy or its preview does that people do not expect from GitLab, as data.
//!
//! Each [`Warning`] carries its parameters and renders to one sentence ([`Display`]). On the
//! wire it travels as a [`Notice`]: `{"code": "several_runs",
//! "tags": 1200, "runs": 6, …, "message": "…"}`,
//! so scripts match the stable `code` and its parameters while people read `message`, and the
//! page shows the same sentence the JSON API returns. A [`PolicyNote`] travels the same way:
//! what GitLab holds for a saved policy that the editor shows differently.
//!
//! [`Display`]: std::fmt::Display

pub use crate::notice::Notice;

use crate::format::{count, exact_unix, plural};
use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the policy's two regexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PolicyRegex {
    /// `name_regex`: the tags to remove.
    Delete,
    /// `name_regex_keep`: the tags to keep (wins over remove).
    Keep,
}

/// A surprise in a draft policy (the first two) or in its preview of one repository.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// A regex with a top-level `|`: GitLab anchors it as `\A…\z` without parentheses.
    RegexAlternation { regex: PolicyRegex, pattern: String },
    /// No delete regex: GitLab deletes nothing.
    NoDeleteRegex,
    /// Every tag but `latest` goes.
    DeletesEveryTag,
    /// With the metadata database GitLab applies keep_n per page of `page_size` tags.
    KeepNPerPage {
        page_size: u64,
        pages: u64,
        keep_n: u32,
    },
    /// Tags without a timestamp: newest for keep_n, never old enough for older_than.
    WithoutTimestamp { tags: u64 },
    /// Tags sharing a timestamp at the keep_n boundary.
    TimestampTies { tags: u64 },
    /// Signature, attestation and SBOM tags that keep_n counts like images.
    SidecarsCountTowardsKeepN { tags: u64 },
    /// Tags published at one instant (an import): older_than sees one batch.
    ImportBatch {
        tags: u64,
        images: u64,
        /// Unix seconds.
        published_at: i64,
    },
    /// The preview covers the tags indexed so far.
    PartlyIndexed,
    /// GitLab's last scheduled cleanup stopped before it finished.
    LastCleanupUnfinished,
    /// GitLab's cleanup is running in this repository now.
    CleanupRunning,
    /// More deletions than GitLab's scheduled cleanup may do in one run. Without the
    /// metadata database each run takes at most `per_run` tags past the name regexes, so it
    /// needs at least `runs` runs, the first due at `first_run` (unix seconds; `None` while
    /// the policy is off). With it (`per_run` `None`) runs are cut by a time budget alone.
    /// Either way GitLab continues an unfinished cleanup soon after, not a cadence later.
    SeveralRuns {
        tags: u64,
        per_run: Option<u64>,
        runs: Option<u64>,
        first_run: Option<i64>,
    },
    /// The policy would delete tags GitLab says are in use (see [`crate::usage`]): `tags`
    /// of them, the first few by name, and the environments that run some of them.
    DeletesInUse {
        tags: u64,
        names: Vec<String>,
        environments: Vec<String>,
    },
    /// Which tags are in use could not be checked here (`why`), so nothing is flagged.
    InUseUnchecked { why: String },
}

impl Warning {
    /// The stable code scripts match on (the `code` field of a [`Notice`]).
    pub fn code(&self) -> &'static str {
        match self {
            Warning::RegexAlternation { .. } => "regex_alternation",
            Warning::NoDeleteRegex => "no_delete_regex",
            Warning::DeletesEveryTag => "deletes_every_tag",
            Warning::KeepNPerPage { .. } => "keep_n_per_page",
            Warning::WithoutTimestamp { .. } => "without_timestamp",
            Warning::TimestampTies { .. } => "timestamp_ties",
            Warning::SidecarsCountTowardsKeepN { .. } => "sidecars_count_towards_keep_n",
            Warning::ImportBatch { .. } => "import_batch",
            Warning::PartlyIndexed => "partly_indexed",
            Warning::LastCleanupUnfinished => "last_cleanup_unfinished",
            Warning::CleanupRunning => "cleanup_running",
            Warning::SeveralRuns { .. } => "several_runs",
            Warning::DeletesInUse { .. } => "deletes_in_use",
            Warning::InUseUnchecked { .. } => "in_use_unchecked",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::RegexAlternation { regex, pattern } => {
                let which = match regex {
                    PolicyRegex::Delete => "delete",
                    PolicyRegex::Keep => "keep",
                };
                write!(
                    f,
                    "The {which} regex “{pattern}” has a top-level “|”: GitLab anchors it as \
                     \\A{pattern}\\z, so the first alternative only has to match the start of a \
                     name and the last only the end. Wrap it in parentheses, (…|…), to match \
                     whole names."
                )
            }
            Warning::NoDeleteRegex => f.write_str("Without a delete regex GitLab deletes nothing."),
            Warning::DeletesEveryTag => {
                f.write_str("Deletes every tag of this repository (except latest).")
            }
            Warning::KeepNPerPage {
                page_size,
                pages,
                keep_n,
            } => write!(
                f,
                "GitLab applies keep_n per page of {page_size} tags here: {pages} pages keep up \
                 to {keep_n} tags each, not {keep_n} in all."
            ),
            Warning::WithoutTimestamp { tags } => write!(
                f,
                "{} without a timestamp: keep_n counts them as the newest, and an age limit \
                 never deletes them.",
                plural(*tags, "tag", "tags")
            ),
            Warning::TimestampTies { tags } => write!(
                f,
                "{} share a timestamp at the keep_n boundary: GitLab may keep a different one \
                 of them.",
                plural(*tags, "tag", "tags")
            ),
            Warning::SidecarsCountTowardsKeepN { tags } => write!(
                f,
                "{} (sha256-….sig, .att, .sbom) {} keep_n like ordinary tags: they take places \
                 among the newest kept, and a sidecar can outlive or lose its image.",
                plural(
                    *tags,
                    "signature/attestation/SBOM tag",
                    "signature/attestation/SBOM tags"
                ),
                if *tags == 1 {
                    "counts towards"
                } else {
                    "count towards"
                }
            ),
            Warning::ImportBatch {
                tags,
                images,
                published_at,
            } => write!(
                f,
                "{} of {} share one published time ({}), most likely from an import into the \
                 metadata database: older_than sees them as one batch, whenever they were built.",
                plural(*tags, "tag", "tags"),
                plural(*images, "image", "images"),
                exact_unix(*published_at)
            ),
            Warning::PartlyIndexed => {
                f.write_str("Not all tags are indexed yet: the counts cover the indexed tags.")
            }
            Warning::LastCleanupUnfinished => f.write_str(
                "GitLab's last scheduled cleanup here stopped before it finished (runs have a \
                 time budget); it resumes on a later run, so tags it should delete may still be \
                 listed.",
            ),
            Warning::CleanupRunning => f.write_str(
                "GitLab's cleanup is running here right now: these tags may be changing.",
            ),
            Warning::SeveralRuns {
                tags,
                per_run,
                runs,
                first_run,
            } => {
                match (per_run, runs) {
                    (Some(per_run), Some(runs)) => write!(
                        f,
                        "GitLab's scheduled cleanup takes at most {} per repository and run \
                         (its container_registry_cleanup_tags_service_max_list_size): the {} \
                         here need at least {} runs",
                        plural(*per_run, "tag", "tags"),
                        count(*tags),
                        count(*runs),
                    )?,
                    _ => write!(
                        f,
                        "GitLab runs cleanups within a time budget: deleting {} here may take \
                         several runs",
                        plural(*tags, "tag", "tags")
                    )?,
                }
                match first_run {
                    Some(t) => write!(
                        f,
                        ", the first due around {}",
                        exact_unix(*t).split(' ').next().unwrap_or_default()
                    )?,
                    None => f.write_str(", once the policy is enabled")?,
                }
                f.write_str(
                    ". Each but the last leaves the repository's cleanup “unfinished”, and \
                     GitLab continues it soon after rather than a cadence later.",
                )
            }
            Warning::DeletesInUse {
                tags,
                names,
                environments,
            } => {
                write!(
                    f,
                    "This policy would delete {} that GitLab says {} in use",
                    plural(*tags, "tag", "tags"),
                    if *tags == 1 { "is" } else { "are" }
                )?;
                if !environments.is_empty() {
                    write!(
                        f,
                        " (running in {} {})",
                        if environments.len() == 1 {
                            "environment"
                        } else {
                            "environments"
                        },
                        environments.join(", ")
                    )?;
                }
                let more = *tags as usize - names.len().min(*tags as usize);
                write!(f, ": {}", names.join(", "))?;
                if more > 0 {
                    write!(f, " and {more} more")?;
                }
                f.write_str(".")
            }
            Warning::InUseUnchecked { why } => write!(
                f,
                "Which of these tags GitLab uses could not be checked ({why}), so none is \
                 flagged as in use: check the project's environments before saving."
            ),
        }
    }
}

/// What GitLab holds for a project's policy that the editor cannot show as it is (a value
/// GitLab no longer offers, say), and what the page shows instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum PolicyNote {
    /// The project has no policy yet: the editor starts from GitLab's defaults.
    NoPolicyYet,
    /// A cadence GitLab does not offer today; shown as daily.
    UnknownCadence { cadence: String },
    /// A keep_n GitLab does not offer today; shown as none.
    UnofferedKeepN { keep_n: u32 },
    /// A regex longer than GitLab accepts today; shown as empty.
    RegexTooLong { regex: PolicyRegex, max_chars: u32 },
    /// An age limit GitLab does not offer today; shown as none.
    UnknownOlderThan { older_than: String },
}

impl fmt::Display for PolicyNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyNote::NoPolicyYet => f.write_str(
                "GitLab has no cleanup policy for this project yet; these are its defaults.",
            ),
            PolicyNote::UnknownCadence { cadence } => write!(
                f,
                "GitLab's cadence “{cadence}” is not one it offers today; shown as every day."
            ),
            PolicyNote::UnofferedKeepN { keep_n } => write!(
                f,
                "GitLab keeps {keep_n} tags, which is not a value it offers today; shown as none."
            ),
            PolicyNote::RegexTooLong { regex, max_chars } => write!(
                f,
                "GitLab's {} regex is longer than {max_chars} characters, which it no longer \
                 accepts; shown as empty.",
                match regex {
                    PolicyRegex::Delete => "remove",
                    PolicyRegex::Keep => "keep",
                }
            ),
            PolicyNote::UnknownOlderThan { older_than } => write!(
                f,
                "GitLab's age limit “{older_than}” is not one it offers today; shown as none."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_kind() -> Vec<Warning> {
        vec![
            Warning::RegexAlternation {
                regex: PolicyRegex::Keep,
                pattern: "dev|rc".into(),
            },
            Warning::NoDeleteRegex,
            Warning::DeletesEveryTag,
            Warning::KeepNPerPage {
                page_size: 1_000,
                pages: 3,
                keep_n: 5,
            },
            Warning::WithoutTimestamp { tags: 2 },
            Warning::TimestampTies { tags: 1 },
            Warning::SidecarsCountTowardsKeepN { tags: 1 },
            Warning::ImportBatch {
                tags: 40,
                images: 12,
                published_at: 1_700_000_000,
            },
            Warning::PartlyIndexed,
            Warning::LastCleanupUnfinished,
            Warning::CleanupRunning,
            Warning::SeveralRuns {
                tags: 1_200,
                per_run: None,
                runs: None,
                first_run: None,
            },
            Warning::DeletesInUse {
                tags: 7,
                names: vec!["v2.3.1".into(), "stable".into()],
                environments: vec!["production".into()],
            },
            Warning::InUseUnchecked {
                why: "GitLab took too long".into(),
            },
        ]
    }

    #[test]
    fn notices_carry_the_code_the_parameters_and_the_sentence_and_read_back() {
        for warning in every_kind() {
            let notice = Notice::from(warning.clone());
            let json = serde_json::to_value(&notice).expect("serialises");
            assert_eq!(json["code"], warning.code(), "{json}");
            assert_eq!(json["message"], warning.to_string());
            assert!(!notice.message.is_empty());
            let back: Notice = serde_json::from_value(json.clone()).expect("reads back");
            assert_eq!(back, notice, "{json}");
        }
        let json = serde_json::to_value(Notice::from(Warning::SeveralRuns {
            tags: 1_200,
            per_run: Some(200),
            runs: Some(6),
            // 2026-12-08 12:00 UTC.
            first_run: Some(1_796_731_200),
        }))
        .expect("serialises");
        assert_eq!(
            json,
            serde_json::json!({
                "code": "several_runs",
                "tags": 1200,
                "per_run": 200,
                "runs": 6,
                "first_run": 1_796_731_200,
                "message": "GitLab's scheduled cleanup takes at most 200 tags per repository \
                            and run (its container_registry_cleanup_tags_service_max_list_size): \
                            the 1,200 here need at least 6 runs, the first due around \
                            2026-12-08. Each but the last leaves the repository's cleanup \
                            “unfinished”, and GitLab continues it soon after rather than a \
                            cadence later."
            })
        );
    }

    #[test]
    fn every_code_is_distinct() {
        let mut codes: Vec<&str> = every_kind().iter().map(Warning::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), every_kind().len());
    }

    #[test]
    fn sentences_name_their_parameters() {
        let w = Warning::RegexAlternation {
            regex: PolicyRegex::Delete,
            pattern: "dev|rc".into(),
        };
        assert!(w.to_string().starts_with("The delete regex “dev|rc”"));
        assert!(w.to_string().contains(r"\Adev|rc\z"));
        let s = Warning::SidecarsCountTowardsKeepN { tags: 2 }.to_string();
        assert!(s.starts_with("2 signature/attestation/SBOM tags"), "{s}");
        assert!(s.contains("count towards keep_n"), "{s}");
        let s = Warning::DeletesInUse {
            tags: 3,
            names: vec!["v2.3.1".into(), "stable".into()],
            environments: vec!["production".into()],
        }
        .to_string();
        assert_eq!(
            s,
            "This policy would delete 3 tags that GitLab says are in use (running in environment \
             production): v2.3.1, stable and 1 more."
        );
    }
}
