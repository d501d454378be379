//! What the tag pages show: the repository with the viewer's rights, the index's progress, a
//! page of the list, and a tag's detail.

use super::{Tag, TagSlice};
use serde::{Deserialize, Serialize};

/// An image repository as its tag pages show it, with the viewer's rights.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryHeader {
    pub id: u64,
    /// Name inside the project; empty for the root image.
    pub name: String,
    pub path: String,
    pub location: String,
    pub project_id: u64,
    pub project_path: String,
    pub project_name: String,
    pub tags_count: Option<u64>,
    pub status: Option<crate::RepositoryStatus>,
    pub cleanup_status: crate::CleanupStatus,
    /// The viewer's role in the project.
    pub access: crate::AccessLevel,
    /// GitLab lets the viewer delete the whole repository.
    pub can_delete_repository: bool,
    pub protection_rule_exists: bool,
}

impl RepositoryHeader {
    /// The root image has no name of its own; show its path.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.path
        } else {
            &self.name
        }
    }
}

/// How far the tag index of a repository is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IndexProgress {
    pub indexed: u64,
    /// Tags GitLab reports for the repository, when known.
    pub total: Option<u64>,
    pub complete: bool,
    /// Why indexing stopped early, for the user.
    pub error: Option<String>,
    /// Seconds since the index was completed (how fresh the data is).
    pub age_secs: Option<u64>,
}

/// One page of a repository's tag list, with everything the page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagListPage {
    pub repository: RepositoryHeader,
    pub progress: IndexProgress,
    pub slice: TagSlice,
    /// The name filter did not compile (shown on the field); the list is then unfiltered by name.
    pub filter_error: Option<String>,
    pub now: i64,
    /// The index is still building and the matches come from GitLab's own name search,
    /// complete for every name containing the text exactly as typed (GitLab's search is
    /// case-sensitive; other spellings appear as they are indexed).
    #[serde(default)]
    pub searched: bool,
    /// Which of the page's tags GitLab says are in use or dead, with the repository's
    /// counts (see [`crate::usage`]).
    #[serde(default)]
    pub usage: crate::usage::UsageState,
}

/// One layer, or the config blob, of an image manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Blob {
    pub digest: String,
    pub size: Option<u64>,
    pub media_type: Option<String>,
}

/// One platform of a multi-arch index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlatformImage {
    pub os: Option<String>,
    pub architecture: Option<String>,
    pub variant: Option<String>,
    pub digest: String,
    pub size: Option<u64>,
    pub media_type: Option<String>,
}

impl PlatformImage {
    /// `linux/arm64/v8`.
    pub fn label(&self) -> String {
        let mut parts = vec![
            self.os.clone().unwrap_or_else(|| "unknown".into()),
            self.architecture
                .clone()
                .unwrap_or_else(|| "unknown".into()),
        ];
        if let Some(v) = &self.variant {
            parts.push(v.clone());
        }
        parts.join("/")
    }
}

/// Everything the tag detail page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagDetail {
    pub repository: RepositoryHeader,
    pub tag: Tag,
    /// `registry.example.com/group/project/image:tag`.
    pub location: String,
    pub config: Option<Blob>,
    pub layers: Vec<Blob>,
    pub platforms: Vec<PlatformImage>,
    /// The other tags with the same manifest digest: the first [`ALSO_TAGGED_SHOWN`] in
    /// natural order; `also_tagged_more` counts the rest.
    pub also_tagged: Vec<String>,
    #[serde(default)]
    pub also_tagged_more: u64,
    /// Cosign-style sidecar tags (`sha256-<hex>.sig`, `.att`, `.sbom`) that describe this
    /// tag's image.
    #[serde(default)]
    pub sidecars: Vec<(String, crate::family::SidecarKind)>,
    /// What GitLab says about this tag: in use (why), dead (why) or nothing known.
    #[serde(default)]
    pub usage: crate::usage::UsageState,
    pub now: i64,
}

/// Other tags of the same image a tag page names (the rest are counted).
pub const ALSO_TAGGED_SHOWN: usize = 50;

impl TagDetail {
    /// `docker pull location:tag`.
    pub fn pull_by_tag(&self) -> String {
        format!("docker pull {}", self.location)
    }

    /// `docker pull repo@sha256:…`, when the digest is known.
    pub fn pull_by_digest(&self) -> Option<String> {
        let digest = self.tag.digest.as_ref()?;
        Some(format!("docker pull {}@{digest}", self.repository.location))
    }
}
