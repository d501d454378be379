//! What a tag's name says about it, from the name alone, first match wins: cosign sidecars
//! (`sha256-<64 hex>.sig|.att|.sbom`), semantic versions (`v1.2`, `1.4.0-rc.1`), dates
//! (`2026-11-02`, `20261102`, `20261102-1530`), commit SHAs (7–40 lower-case hex with at least
//! one letter, optionally `sha-` or `g` first), branch-like names (letters first: `main`,
//! `feature-x`, `mr-123`, `latest`), then anything else. The tag list filters by family with
//! `family=` using this very function, and the repository's charts count with it, so a bar
//! and the list it links to always agree.

use serde::{Deserialize, Serialize};

/// What a tag name says about the tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TagFamily {
    SemVer,
    Date,
    CommitSha,
    Branch,
    Sidecar,
    Other,
}

impl TagFamily {
    pub const ALL: [TagFamily; 6] = [
        TagFamily::SemVer,
        TagFamily::Date,
        TagFamily::CommitSha,
        TagFamily::Branch,
        TagFamily::Sidecar,
        TagFamily::Other,
    ];

    pub fn as_param(self) -> &'static str {
        match self {
            TagFamily::SemVer => "semver",
            TagFamily::Date => "date",
            TagFamily::CommitSha => "sha",
            TagFamily::Branch => "branch",
            TagFamily::Sidecar => "sidecar",
            TagFamily::Other => "other",
        }
    }

    pub fn from_param(value: &str) -> Option<Self> {
        TagFamily::ALL.into_iter().find(|f| f.as_param() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            TagFamily::SemVer => "Versions",
            TagFamily::Date => "Dates",
            TagFamily::CommitSha => "Commit SHAs",
            TagFamily::Branch => "Branches and moving tags",
            TagFamily::Sidecar => "Sidecars (sig, att, sbom)",
            TagFamily::Other => "Other",
        }
    }

    pub fn example(self) -> &'static str {
        match self {
            TagFamily::SemVer => "v1.2.3, 1.4.0-rc.1",
            TagFamily::Date => "2026-11-02, 20261102",
            TagFamily::CommitSha => "3f9a2c1, sha-3f9a2c1",
            TagFamily::Branch => "main, feature-x, latest",
            TagFamily::Sidecar => "sha256-….sig",
            TagFamily::Other => "",
        }
    }

    /// The family of a tag name (see the module docs for the rules).
    pub fn of(name: &str) -> TagFamily {
        if sidecar(name).is_some() {
            TagFamily::Sidecar
        } else if is_semver(name) {
            TagFamily::SemVer
        } else if is_date(name) {
            TagFamily::Date
        } else if is_sha(name) {
            TagFamily::CommitSha
        } else if name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
            TagFamily::Branch
        } else {
            TagFamily::Other
        }
    }
}

/// What a sidecar tag holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SidecarKind {
    Signature,
    Attestation,
    Sbom,
}

impl SidecarKind {
    pub fn label(self) -> &'static str {
        match self {
            SidecarKind::Signature => "signature",
            SidecarKind::Attestation => "attestation",
            SidecarKind::Sbom => "SBOM",
        }
    }
}

/// `sha256-<64 hex>.sig|.att|.sbom` → the subject digest `sha256:<hex>` and the kind.
pub fn sidecar(name: &str) -> Option<(String, SidecarKind)> {
    let rest = name.strip_prefix("sha256-")?;
    let (hex, suffix) = rest.split_once('.')?;
    let kind = match suffix {
        "sig" => SidecarKind::Signature,
        "att" => SidecarKind::Attestation,
        "sbom" => SidecarKind::Sbom,
        _ => return None,
    };
    (hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    .then(|| (format!("sha256:{hex}"), kind))
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_semver(name: &str) -> bool {
    let core = name.strip_prefix('v').unwrap_or(name);
    let end = core.find(['-', '+']).unwrap_or(core.len());
    let (numbers, suffix) = core.split_at(end);
    let parts: Vec<&str> = numbers.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().all(|p| digits(p))
        && (suffix.is_empty() || suffix.len() > 1)
}

fn is_date(name: &str) -> bool {
    if !name.is_ascii() {
        return false;
    }
    let b = name.as_bytes();
    let (date, rest): (&str, &str) = if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        if !(digits(&name[0..4]) && digits(&name[5..7]) && digits(&name[8..10])) {
            return false;
        }
        (&name[..10], &name[10..])
    } else if b.len() >= 8 && digits(&name[..8]) {
        (&name[..8], &name[8..])
    } else {
        return false;
    };
    let compact: String = date.chars().filter(char::is_ascii_digit).collect();
    let (month, day): (u32, u32) = (
        compact[4..6].parse().unwrap_or(0),
        compact[6..8].parse().unwrap_or(0),
    );
    (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && compact[..2]
            .parse::<u32>()
            .is_ok_and(|c| (19..=21).contains(&c))
        && (rest.is_empty() || matches!(rest.as_bytes()[0], b'-' | b'T' | b'_' | b'.'))
}

fn is_sha(name: &str) -> bool {
    let hex = name
        .strip_prefix("sha-")
        .or_else(|| name.strip_prefix('g'))
        .filter(|h| h.len() >= 7)
        .unwrap_or(name);
    (7..=40).contains(&hex.len())
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && hex.bytes().any(|b| (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fall_into_families() {
        let hex = "a".repeat(64);
        for (name, family) in [
            ("v1.2.3", TagFamily::SemVer),
            ("1.4.0-rc.1", TagFamily::SemVer),
            ("2.1", TagFamily::SemVer),
            ("v1.2.3+build.5", TagFamily::SemVer),
            ("2026-11-02", TagFamily::Date),
            ("20261102", TagFamily::Date),
            ("20261102-1530", TagFamily::Date),
            ("3f9a2c1", TagFamily::CommitSha),
            ("sha-3f9a2c1", TagFamily::CommitSha),
            (
                "0123456789abcdef0123456789abcdef01234567",
                TagFamily::CommitSha,
            ),
            ("main", TagFamily::Branch),
            ("feature-x", TagFamily::Branch),
            ("mr-123", TagFamily::Branch),
            ("latest", TagFamily::Branch),
            (&format!("sha256-{hex}.sig"), TagFamily::Sidecar),
            (&format!("sha256-{hex}.sbom"), TagFamily::Sidecar),
            ("1234567", TagFamily::Other),
            ("_tmp", TagFamily::Other),
            ("v1", TagFamily::Branch),
            ("20261340", TagFamily::Other),
        ] {
            assert_eq!(TagFamily::of(name), family, "{name}");
        }
        assert_eq!(
            sidecar(&format!("sha256-{hex}.att")).unwrap().0,
            format!("sha256:{hex}")
        );
        assert!(sidecar("sha256-abc.sig").is_none());
    }
}
