//! The indexed tag and what can be said of it by itself: its kind, its short digest, its age
//! in words.

use crate::format;
use serde::{Deserialize, Serialize};

/// Artifact types that mean "signed".
pub(super) const SIGNATURE_TYPES: [&str; 3] = [
    "application/vnd.dev.cosign.artifact.sig.v1+json",
    "application/vnd.cncf.notary.signature",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
];

/// A referrer of a tag's manifest: a signature, an SBOM, an attestation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Referrer {
    pub artifact_type: String,
    pub digest: String,
}

impl Referrer {
    /// Human name of the artifact type.
    pub fn kind(&self) -> &'static str {
        let t = self.artifact_type.as_str();
        if SIGNATURE_TYPES.contains(&t) || t.contains("signature") || t.contains(".sig") {
            "Signature"
        } else if t.contains("spdx") || t.contains("cyclonedx") || t.contains("sbom") {
            "SBOM"
        } else if t.contains("in-toto") || t.contains("attestation") || t.contains("provenance") {
            "Attestation"
        } else {
            "Artifact"
        }
    }
}

/// The protection of a tag by a tag protection rule: the least role that may push or delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagProtection {
    pub minimum_access_level_for_push: Option<crate::AccessLevel>,
    pub minimum_access_level_for_delete: Option<crate::AccessLevel>,
}

/// One tag with the details the list needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tag {
    pub name: String,
    /// Manifest digest; `None` when the manifest is missing.
    pub digest: Option<String>,
    /// Config digest (GitLab calls it revision).
    pub revision: Option<String>,
    /// Created time from the image config (unix seconds).
    pub created_at: Option<i64>,
    /// Publish time (metadata database only).
    pub published_at: Option<i64>,
    pub total_size: Option<u64>,
    pub media_type: Option<String>,
    pub referrers: Vec<Referrer>,
    pub protection: Option<TagProtection>,
}

impl Tag {
    /// The time the list shows and sorts by: published, else created.
    pub fn timestamp(&self) -> Option<i64> {
        self.published_at.or(self.created_at)
    }

    /// An OCI index or Docker manifest list (several platforms).
    pub fn is_multi_arch(&self) -> bool {
        self.media_type.as_deref().is_some_and(|m| {
            m.contains("image.index") || m.contains("manifest.list") || m.ends_with("index+json")
        })
    }

    /// Has at least one signature referrer.
    pub fn is_signed(&self) -> bool {
        self.referrers.iter().any(|r| r.kind() == "Signature")
    }

    /// Matched by a tag protection rule.
    pub fn is_protected(&self) -> bool {
        self.protection.is_some()
    }

    /// GitLab could not read the tag's manifest.
    pub fn is_missing_manifest(&self) -> bool {
        self.digest.is_none()
    }

    /// First 12 hex digits of the manifest digest.
    pub fn short_digest(&self) -> Option<String> {
        self.digest.as_deref().map(short_digest)
    }
}

/// `sha256:0123456789abcdef…` → `0123456789ab`.
pub fn short_digest(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// Kinds a tag can be filtered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TagKind {
    MultiArch,
    Signed,
    Protected,
    MissingManifest,
}

impl TagKind {
    pub const ALL: [TagKind; 4] = [
        TagKind::MultiArch,
        TagKind::Signed,
        TagKind::Protected,
        TagKind::MissingManifest,
    ];

    pub fn as_param(self) -> &'static str {
        match self {
            TagKind::MultiArch => "multi-arch",
            TagKind::Signed => "signed",
            TagKind::Protected => "protected",
            TagKind::MissingManifest => "missing-manifest",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        TagKind::ALL.into_iter().find(|k| k.as_param() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            TagKind::MultiArch => "Multi-arch",
            TagKind::Signed => "Signed",
            TagKind::Protected => "Protected",
            TagKind::MissingManifest => "Missing manifest",
        }
    }

    pub fn matches(self, tag: &Tag) -> bool {
        match self {
            TagKind::MultiArch => tag.is_multi_arch(),
            TagKind::Signed => tag.is_signed(),
            TagKind::Protected => tag.is_protected(),
            TagKind::MissingManifest => tag.is_missing_manifest(),
        }
    }
}

/// "3 days ago" for a unix timestamp, "unknown" for none.
pub fn relative(ts: Option<i64>, now: i64) -> String {
    ts.map(|t| format::relative_time(t, now))
        .unwrap_or_else(|| "unknown".into())
}
