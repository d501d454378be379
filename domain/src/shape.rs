//! The shape of a repository: how its tags spread over age and size, the families their
//! names fall into, the signature/attestation/SBOM sidecar tags and their subjects, and
//! the tell-tale of an import from an older registry.
//!
//! - **Families** are recognised from the name alone (see [`crate::family`]), the same
//!   function the list's `family=` filter uses.
//! - **Age and size buckets** use the list's own filters (`newer=`/`older=`, `min=`/`max=`)
//!   with their exact semantics: newer is `>=`, older is `<`, sizes are inclusive at both
//!   ends, so a tag lands in the first bucket whose link lists it.
//! - **Storage per bucket** is what the caller's `bytes` says a set of tags holds: each
//!   blob once when the layers of every image are known (`deduplicated`), else tag sizes
//!   added up, labelled as such.
//! - **Sidecars** name their subject by digest: `sha256-<hex>.sig` belongs to every tag whose
//!   digest is `sha256:<hex>`. GitLab's cleanup counts them as ordinary tags (`keep_n`).
//! - **Import batch**: with the metadata database, tags imported from an older registry all
//!   carry the import time as their published (and created) time; the original build times
//!   live only in the image configs, which GitLab's API does not return. A published time,
//!   to the second, shared by at least [`IMPORT_BATCH_MIN`] tags of as many different
//!   images, and earlier than every other tag's (the database's records begin with the
//!   import) is reported. A CI matrix pushing many images in one second is not the earliest;
//!   re-tagging one image many times is not many images.

pub use crate::family::{sidecar, SidecarKind, TagFamily};
use crate::tags::Tag;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Tags that must share one published time before it is called an import.
pub const IMPORT_BATCH_MIN: usize = 5;

/// One bar of a chart: a slice of the tags, and the tag-list filter that lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    pub label: String,
    pub tags: u64,
    pub bytes: u64,
    /// Query pairs of the tag list that shows exactly these tags (empty when none can).
    pub query: Vec<(String, String)>,
}

/// One family and its tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FamilyCount {
    pub family: TagFamily,
    pub tags: u64,
    pub bytes: u64,
}

/// A subject tag and the sidecars that belong to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SidecarGroup {
    pub subject: String,
    /// `(sidecar tag, kind)`.
    pub sidecars: Vec<(String, SidecarKind)>,
}

/// A published time many tags of different images share.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportBatch {
    pub published_at: i64,
    pub tags: u64,
    /// Distinct images among them.
    pub images: u64,
}

/// The whole picture.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryShape {
    pub by_age: Vec<Bucket>,
    pub by_size: Vec<Bucket>,
    pub families: Vec<FamilyCount>,
    /// Bytes per bucket count each blob once (else they add up tag sizes).
    pub deduplicated: bool,
    pub sidecars: Vec<SidecarGroup>,
    /// Sidecar tags, each once.
    pub sidecar_tags: u64,
    /// Sidecar tags whose subject digest no tag has.
    pub orphan_sidecars: u64,
    pub import_batch: Option<ImportBatch>,
}

impl RepositoryShape {
    pub fn sidecar_count(&self) -> u64 {
        self.sidecars
            .iter()
            .map(|g| g.sidecars.len() as u64)
            .sum::<u64>()
            + self.orphan_sidecars
    }
}

const DAY: i64 = 86_400;
/// Age buckets: (label, newer-than param, older-than param), youngest first.
const AGES: [(&str, Option<&str>, Option<&str>, i64); 6] = [
    ("under a day", Some("1d"), None, DAY),
    ("1–7 days", Some("7d"), Some("1d"), 7 * DAY),
    ("1–4 weeks", Some("30d"), Some("7d"), 30 * DAY),
    ("1–3 months", Some("90d"), Some("30d"), 90 * DAY),
    ("3–12 months", Some("365d"), Some("90d"), 365 * DAY),
    ("over a year", None, Some("365d"), i64::MAX),
];
const MB: u64 = 1_000_000;
/// Size buckets: (label, min param, max param, upper bound inclusive). The list's size
/// bounds are inclusive at both ends, so each upper bound is a byte below the next lower.
const SIZES: [(&str, Option<&str>, Option<&str>, u64); 5] = [
    ("under 10 MB", None, Some("9.999999MB"), 10 * MB - 1),
    ("10–100 MB", Some("10MB"), Some("99.999999MB"), 100 * MB - 1),
    (
        "100 MB–1 GB",
        Some("100MB"),
        Some("999.999999MB"),
        1000 * MB - 1,
    ),
    ("1–5 GB", Some("1GB"), Some("4.999999999GB"), 5000 * MB - 1),
    ("over 5 GB", Some("5GB"), None, u64::MAX),
];

fn pairs(items: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
        .collect()
}

/// Computes the shape of a repository from all its tags and `now`; `bytes` gives a slice's
/// storage, `deduplicated` says whether it counts each blob once.
pub fn shape(
    tags: &[&Tag],
    now: i64,
    bytes: impl Fn(&[&Tag]) -> u64,
    deduplicated: bool,
) -> RepositoryShape {
    let mut age_members: Vec<Vec<&Tag>> = vec![Vec::new(); AGES.len() + 1];
    let mut size_members: Vec<Vec<&Tag>> = vec![Vec::new(); SIZES.len() + 1];
    let mut family_members: HashMap<TagFamily, Vec<&Tag>> = HashMap::new();
    for tag in tags {
        let age_slot = match tag.timestamp() {
            // The filter: newer=X is `ts >= now - X`, older=X is `ts < now - X`.
            Some(ts) => AGES
                .iter()
                .position(|(_, _, _, upper)| *upper == i64::MAX || ts >= now - upper)
                .unwrap_or(AGES.len() - 1),
            None => AGES.len(),
        };
        age_members[age_slot].push(tag);
        let size_slot = match tag.total_size {
            Some(size) => SIZES
                .iter()
                .position(|(_, _, _, upper)| size <= *upper)
                .unwrap_or(SIZES.len() - 1),
            None => SIZES.len(),
        };
        size_members[size_slot].push(tag);
        family_members
            .entry(TagFamily::of(&tag.name))
            .or_default()
            .push(tag);
    }
    let mut by_age: Vec<Bucket> = AGES
        .iter()
        .zip(&age_members)
        .map(|((label, newer, older, _), members)| Bucket {
            label: label.to_string(),
            tags: members.len() as u64,
            bytes: bytes(members),
            query: pairs(&[("newer", *newer), ("older", *older)]),
        })
        .collect();
    if !age_members[AGES.len()].is_empty() {
        by_age.push(Bucket {
            label: "no date".into(),
            tags: age_members[AGES.len()].len() as u64,
            bytes: bytes(&age_members[AGES.len()]),
            query: Vec::new(),
        });
    }
    let mut by_size: Vec<Bucket> = SIZES
        .iter()
        .zip(&size_members)
        .map(|((label, min, max, _), members)| Bucket {
            label: label.to_string(),
            tags: members.len() as u64,
            bytes: bytes(members),
            query: pairs(&[("min", *min), ("max", *max)]),
        })
        .collect();
    if !size_members[SIZES.len()].is_empty() {
        by_size.push(Bucket {
            label: "no size".into(),
            tags: size_members[SIZES.len()].len() as u64,
            bytes: 0,
            query: Vec::new(),
        });
    }
    let families = TagFamily::ALL
        .iter()
        .filter_map(|f| {
            family_members.get(f).map(|members| FamilyCount {
                family: *f,
                tags: members.len() as u64,
                bytes: bytes(members),
            })
        })
        .collect();
    // Sidecars under their subjects.
    let mut by_digest: HashMap<&str, Vec<&str>> = HashMap::new();
    for tag in tags {
        if let Some(d) = tag.digest.as_deref() {
            by_digest.entry(d).or_default().push(tag.name.as_str());
        }
    }
    let mut groups: HashMap<String, Vec<(String, SidecarKind)>> = HashMap::new();
    let mut orphan_sidecars = 0;
    let mut sidecar_tags = 0;
    for tag in tags {
        if let Some((subject_digest, kind)) = sidecar(&tag.name) {
            sidecar_tags += 1;
            match by_digest.get(subject_digest.as_str()) {
                Some(subjects) => {
                    for subject in subjects {
                        groups
                            .entry(subject.to_string())
                            .or_default()
                            .push((tag.name.clone(), kind));
                    }
                }
                None => orphan_sidecars += 1,
            }
        }
    }
    let mut sidecars: Vec<SidecarGroup> = groups
        .into_iter()
        .map(|(subject, mut sidecars)| {
            sidecars.sort();
            SidecarGroup { subject, sidecars }
        })
        .collect();
    sidecars.sort_by(|a, b| crate::tags::natural_cmp(&a.subject, &b.subject));
    RepositoryShape {
        by_age,
        by_size,
        families,
        deduplicated,
        sidecars,
        sidecar_tags,
        orphan_sidecars,
        import_batch: import_batch(tags),
    }
}

/// See the module docs.
pub fn import_batch(tags: &[&Tag]) -> Option<ImportBatch> {
    let mut by_published: HashMap<i64, Vec<&Tag>> = HashMap::new();
    for tag in tags {
        if let Some(p) = tag.published_at {
            by_published.entry(p).or_default().push(tag);
        }
    }
    // The records begin with the import: the batch is at the earliest published time.
    let (published_at, members) = by_published.into_iter().min_by_key(|(p, _)| *p)?;
    let images: std::collections::HashSet<&str> =
        members.iter().filter_map(|t| t.digest.as_deref()).collect();
    (images.len() >= IMPORT_BATCH_MIN).then_some(ImportBatch {
        published_at,
        tags: members.len() as u64,
        images: images.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, digest: u8, created: i64, published: Option<i64>, size: u64) -> Tag {
        Tag {
            name: name.into(),
            digest: Some(format!("sha256:{}", format!("{digest:02x}").repeat(32))),
            created_at: Some(created),
            published_at: published,
            total_size: Some(size),
            ..Tag::default()
        }
    }

    const NOW: i64 = 1_800_000_000;

    fn added_up(tags: &[&Tag]) -> u64 {
        tags.iter().filter_map(|t| t.total_size).sum()
    }

    #[test]
    fn buckets_agree_with_the_list_filters_they_link_to() {
        use crate::tags::TagListView;
        let tags: Vec<Tag> = (0..400)
            .map(|i| {
                let age = (i as i64 * 7919 * 3600) % (800 * DAY);
                tag(
                    &format!("t{i}"),
                    (i % 200) as u8,
                    NOW - age,
                    None,
                    (i as u64 * 37 * MB) % (7000 * MB),
                )
            })
            .chain([
                tag("edge-day", 1, NOW - DAY, None, 10 * MB),
                tag("edge-week", 2, NOW - 7 * DAY, None, 100 * MB),
            ])
            .collect();
        let refs: Vec<&Tag> = tags.iter().collect();
        let s = shape(&refs, NOW, added_up, false);
        for bucket in s.by_age.iter().chain(&s.by_size) {
            let (view, notices) = TagListView::from_pairs(&bucket.query);
            assert!(notices.is_empty(), "{notices:?}");
            let filter = view.filter(NOW).unwrap();
            let listed = tags.iter().filter(|t| filter.matches(t)).count() as u64;
            assert_eq!(listed, bucket.tags, "{}", bucket.label);
        }
        assert_eq!(
            s.by_age.iter().map(|b| b.tags).sum::<u64>(),
            tags.len() as u64
        );
        for family in &s.families {
            let (view, _) =
                TagListView::from_pairs(&[("family".into(), family.family.as_param().into())]);
            let filter = view.filter(NOW).unwrap();
            assert_eq!(
                tags.iter().filter(|t| filter.matches(t)).count() as u64,
                family.tags
            );
        }
    }

    #[test]
    fn sidecars_join_their_subjects_and_imports_are_spotted() {
        let subject = tag("v1.0.0", 7, NOW - 10 * DAY, None, 5);
        let hex = "07".repeat(32);
        let sig = tag(&format!("sha256-{hex}.sig"), 8, NOW, None, 1);
        let orphan = tag(&format!("sha256-{}.att", "09".repeat(32)), 10, NOW, None, 1);
        let tags = [subject.clone(), sig, orphan];
        let refs: Vec<&Tag> = tags.iter().collect();
        let s = shape(&refs, NOW, added_up, false);
        assert_eq!(s.sidecars[0].subject, "v1.0.0");
        assert_eq!(s.sidecars[0].sidecars[0].1, SidecarKind::Signature);
        assert_eq!((s.orphan_sidecars, s.sidecar_tags), (1, 2));
        // Twelve images published at one instant: an import.
        let imported: Vec<Tag> = (0..12)
            .map(|i| {
                tag(
                    &format!("old-{i}"),
                    i as u8,
                    NOW - 400 * DAY + i * 30 * DAY,
                    Some(NOW - 3 * DAY),
                    1,
                )
            })
            .collect();
        let refs: Vec<&Tag> = imported.iter().collect();
        let batch = import_batch(&refs).unwrap();
        assert_eq!((batch.tags, batch.published_at), (12, NOW - 3 * DAY));
        // A later burst is a CI matrix, not an import: the import is where records begin.
        let mut burst = imported.clone();
        burst.push(tag("older", 50, NOW - 500 * DAY, Some(NOW - 10 * DAY), 1));
        let refs: Vec<&Tag> = burst.iter().collect();
        assert!(import_batch(&refs).is_none());
        // One image tagged many times at once is a promotion, not an import.
        let pushed: Vec<Tag> = (0..12)
            .map(|i| tag(&format!("p{i}"), 3, NOW - DAY, Some(NOW), 1))
            .collect();
        let refs: Vec<&Tag> = pushed.iter().collect();
        assert!(import_batch(&refs).is_none());
    }
}
