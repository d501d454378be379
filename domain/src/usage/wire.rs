//! How a [`Reason`] and a [`UsageState`] are read back from JSON: into one flat struct,
//! then checked into the variant its tag (`code`, `state`) names.
//!
//! The JSON is the one serde's derive writes for an internally tagged enum (`{"code":
//! "deployed", "environment": …}`); the derive still writes it. Reading it with the derive
//! would buffer every field into serde's generic `Content` and read each variant from that
//! again: about 35 KB of the tag list's WebAssembly for these two enums, and `Content`
//! itself. Reading a flat struct is one pass over the fields. Property tests keep writing
//! and reading agreed on every reason matching can produce.

use serde::Deserialize;

use super::{MatchedBy, MergeRequestState, Reason, RepositoryUsage, UsageState};

/// The value of `code`: which variant.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Code {
    Deployed,
    OpenMergeRequest,
    RecentPipeline,
    BranchHead,
    Release,
    SameImage,
    BranchGone,
}

impl Code {
    /// The code as JSON writes it.
    fn name(self) -> &'static str {
        match self {
            Code::Deployed => "deployed",
            Code::OpenMergeRequest => "open_merge_request",
            Code::RecentPipeline => "recent_pipeline",
            Code::BranchHead => "branch_head",
            Code::Release => "release",
            Code::SameImage => "same_image",
            Code::BranchGone => "branch_gone",
        }
    }
}

/// Every field any variant has; which ones must be there depends on `code`.
#[derive(Deserialize)]
pub(super) struct ReasonWire {
    code: Code,
    environment: Option<String>,
    sha: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    finished_at: Option<i64>,
    by: Option<MatchedBy>,
    iid: Option<u64>,
    source_branch: Option<String>,
    id: Option<u64>,
    updated_at: Option<i64>,
    branch: Option<String>,
    git_tag: Option<String>,
    tag: Option<String>,
    digest: Option<String>,
    merge_request: Option<u64>,
    merge_request_state: Option<MergeRequestState>,
}

impl TryFrom<ReasonWire> for Reason {
    type Error = String;

    fn try_from(w: ReasonWire) -> Result<Self, String> {
        let code = w.code;
        let need =
            |field: &'static str| format!("missing field `{field}` for code `{}`", code.name());
        Ok(match code {
            Code::Deployed => Reason::Deployed {
                environment: w.environment.ok_or_else(|| need("environment"))?,
                sha: w.sha.ok_or_else(|| need("sha"))?,
                reference: w.reference.ok_or_else(|| need("ref"))?,
                finished_at: w.finished_at,
                by: w.by.ok_or_else(|| need("by"))?,
            },
            Code::OpenMergeRequest => Reason::OpenMergeRequest {
                iid: w.iid.ok_or_else(|| need("iid"))?,
                source_branch: w.source_branch.ok_or_else(|| need("source_branch"))?,
                sha: w.sha,
                by: w.by.ok_or_else(|| need("by"))?,
            },
            Code::RecentPipeline => Reason::RecentPipeline {
                id: w.id.ok_or_else(|| need("id"))?,
                sha: w.sha.ok_or_else(|| need("sha"))?,
                reference: w.reference.ok_or_else(|| need("ref"))?,
                updated_at: w.updated_at.ok_or_else(|| need("updated_at"))?,
                by: w.by.ok_or_else(|| need("by"))?,
            },
            Code::BranchHead => Reason::BranchHead {
                branch: w.branch.ok_or_else(|| need("branch"))?,
                sha: w.sha.ok_or_else(|| need("sha"))?,
                by: w.by.ok_or_else(|| need("by"))?,
            },
            Code::Release => Reason::Release {
                git_tag: w.git_tag.ok_or_else(|| need("git_tag"))?,
                sha: w.sha.ok_or_else(|| need("sha"))?,
                by: w.by.ok_or_else(|| need("by"))?,
            },
            Code::SameImage => Reason::SameImage {
                tag: w.tag.ok_or_else(|| need("tag"))?,
                digest: w.digest.ok_or_else(|| need("digest"))?,
            },
            Code::BranchGone => Reason::BranchGone {
                branch: w.branch.ok_or_else(|| need("branch"))?,
                merge_request: w.merge_request,
                merge_request_state: w.merge_request_state,
                by: w.by.ok_or_else(|| need("by"))?,
            },
        })
    }
}

/// The value of `state`.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum State {
    NotRead,
    Reading,
    Known,
    Failed,
}

/// A [`UsageState`] as JSON has it.
#[derive(Deserialize)]
pub(super) struct UsageStateWire {
    state: State,
    usage: Option<RepositoryUsage>,
    message: Option<String>,
}

impl TryFrom<UsageStateWire> for UsageState {
    type Error = String;

    fn try_from(w: UsageStateWire) -> Result<Self, String> {
        let state = match w.state {
            State::NotRead => "not_read",
            State::Reading => "reading",
            State::Known => "known",
            State::Failed => "failed",
        };
        let need = |field: &str| format!("missing field `{field}` for state `{state}`");
        Ok(match w.state {
            State::NotRead => UsageState::NotRead,
            State::Reading => UsageState::Reading,
            State::Known => UsageState::Known {
                usage: w.usage.ok_or_else(|| need("usage"))?,
            },
            State::Failed => UsageState::Failed {
                message: w.message.ok_or_else(|| need("message"))?,
            },
        })
    }
}
