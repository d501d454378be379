//! Storage truth: what tags really occupy and what deleting them really frees, layer by layer.
//!
//! A registry stores each blob (image config or layer) once per repository however many
//! images reference it, and an image (manifest digest) once however many tags point at it.
//! GitLab's per-tag `totalSize` counts every layer of the tag's image, so summing tag sizes
//! counts shared base layers once per tag. The figures here come from the blobs themselves:
//!
//! - [`Layers::build`] interns every blob of the known manifests (an index contributes its
//!   children's configs and layers) and keeps, per image digest, the distinct blob ids. An
//!   image whose manifest, or one of whose children, is not known yet is left out; callers
//!   say how many images that is.
//! - **Freed by a deletion** ([`Layers::freed`]): the images left without a tag are those
//!   the deleted tags point at and no remaining tag does (a deleted tag whose image another
//!   tag keeps frees nothing). Mark every blob of every remaining image; the figure is the
//!   sum, each blob once, of the unmarked blobs of the untagged images. GitLab frees them at
//!   its next garbage collection, not at once. One pass over the references: linear in tags
//!   times layers, with bit sets, no hashing of blobs.
//! - **Unique bytes** of a set of images: each blob once. Freed of deleting every tag equals
//!   the repository's unique bytes; freed never exceeds the naive sum when each tag's size is
//!   the sum of its image's blobs.
//! - **Largest layers** with how many tags use each, and **comparison** of two images with
//!   their layers aligned by a longest common subsequence of digests (order matters in a
//!   layer stack; a layer both images have at different heights still shows as shared).
//!
//! Manifests themselves are a few KiB and not counted, as GitLab counts only tagged layers.

use crate::manifest::{Descriptor, Manifest};
use crate::tags::Tag;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Alignment table cells at most (layers of A times layers of B).
const MAX_ALIGNED_CELLS: usize = 250_000;

/// Layers listed as "largest" on a repository page.
pub const LARGEST_SHOWN: usize = 10;

/// One blob, interned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobInfo {
    pub digest: String,
    pub size: u64,
    pub media_type: Option<String>,
    pub is_config: bool,
}

/// Every blob of the known images of one repository.
#[derive(Clone, Debug, Default)]
pub struct Layers {
    blobs: Vec<BlobInfo>,
    images: HashMap<String, Box<[u32]>>,
}

/// What deleting some tags frees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Freed {
    /// Bytes of blobs only the untagged images reference: what garbage collection frees.
    pub bytes: u64,
    /// The sum of the deleted tags' sizes (what adding GitLab's figures gives).
    pub naive_bytes: u64,
    /// Tags deleted.
    pub tags: u64,
    /// Distinct images left without a tag.
    pub images: u64,
    /// Deleted tags whose image another remaining tag keeps (they free nothing).
    pub kept_by_other_tags: u64,
    /// Untagged images whose layers are not known yet (their bytes are missing from `bytes`).
    pub unknown_images: u64,
    /// Remaining images whose layers are not known yet (they may keep some of `bytes`).
    pub unknown_kept: u64,
    /// Bytes these images leave unused here that the project's other repositories still
    /// use, so they stay (already left out of `bytes`).
    #[serde(default)]
    pub elsewhere_bytes: u64,
    /// Other repositories of the project whose layers were checked for that.
    #[serde(default)]
    pub other_repositories: u64,
}

impl Freed {
    /// Some images were not read yet: the figure is an estimate from the rest.
    pub fn partial(&self) -> bool {
        self.unknown_images > 0 || self.unknown_kept > 0
    }
}

/// A layer and how widely it is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayerUse {
    pub digest: String,
    pub size: u64,
    pub media_type: Option<String>,
    /// Tags whose image holds this layer.
    pub tags: u64,
    /// Distinct images holding it.
    pub images: u64,
}

/// A repository's storage, deduplicated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StorageSummary {
    /// Bytes of the distinct blobs of the known tagged images.
    pub unique_bytes: u64,
    /// Sum of the tags' sizes as GitLab reports them, for every tag with a size.
    pub naive_bytes: u64,
    /// Distinct blobs (configs and layers).
    pub blobs: u64,
    /// Largest layers first.
    pub largest: Vec<LayerUse>,
    /// Distinct tagged images, and how many of them have known layers.
    pub images: u64,
    pub images_known: u64,
}

impl StorageSummary {
    pub fn complete(&self) -> bool {
        self.images_known == self.images
    }
}

/// How far a repository's layer gathering is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayerProgress {
    /// Distinct tagged images known.
    pub images_known: u64,
    /// Distinct tagged images (from the tag index so far).
    pub images: u64,
    /// Every image is read and the tag index is complete.
    pub complete: bool,
    /// Images GitLab gave no usable manifest for (missing, schema 1, malformed).
    pub unreadable: u64,
    /// Manifests held for the repository: its images and their index children.
    #[serde(default)]
    pub manifests: u64,
    /// Why gathering stopped, if it did.
    pub error: Option<String>,
}

impl Layers {
    /// Interns the blobs of `digests` whose manifests `lookup` knows (an index needs every
    /// child known).
    pub fn build<'a>(
        digests: impl IntoIterator<Item = &'a str>,
        lookup: impl Fn(&str) -> Option<Arc<Manifest>>,
    ) -> Layers {
        let mut layers = Layers::default();
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut scratch: Vec<u32> = Vec::new();
        for digest in digests {
            if layers.images.contains_key(digest) {
                continue;
            }
            scratch.clear();
            let Some(manifest) = lookup(digest) else {
                continue;
            };
            let complete = match &*manifest {
                Manifest::Image {
                    config, layers: l, ..
                } => {
                    layers.intern_image(&mut ids, config, l, &mut scratch);
                    true
                }
                Manifest::Index { manifests, .. } => manifests.iter().all(|child| {
                    match lookup(&child.digest).as_deref() {
                        Some(Manifest::Image {
                            config, layers: l, ..
                        }) => {
                            layers.intern_image(&mut ids, config, l, &mut scratch);
                            true
                        }
                        // Nested indexes are not something registries produce; treat
                        // as unknown rather than recurse without bound.
                        _ => false,
                    }
                }),
            };
            if complete {
                scratch.sort_unstable();
                scratch.dedup();
                layers
                    .images
                    .insert(digest.to_string(), scratch.clone().into_boxed_slice());
            }
        }
        layers
    }

    fn intern_image(
        &mut self,
        ids: &mut HashMap<String, u32>,
        config: &Descriptor,
        layers: &[Descriptor],
        out: &mut Vec<u32>,
    ) {
        for (blob, is_config) in
            std::iter::once((config, true)).chain(layers.iter().map(|l| (l, false)))
        {
            let id = match ids.get(&blob.digest) {
                Some(id) => *id,
                None => {
                    let id = self.blobs.len() as u32;
                    self.blobs.push(BlobInfo {
                        digest: blob.digest.clone(),
                        size: blob.size,
                        media_type: blob.media_type.clone(),
                        is_config,
                    });
                    ids.insert(blob.digest.clone(), id);
                    id
                }
            };
            out.push(id);
        }
    }

    /// Bytes this value holds on the heap, roughly (for caches bounded in bytes).
    pub fn weight(&self) -> usize {
        let blobs: usize = self
            .blobs
            .iter()
            .map(|b| {
                std::mem::size_of::<BlobInfo>()
                    + b.digest.len()
                    + b.media_type.as_ref().map_or(0, String::len)
            })
            .sum();
        let images: usize = self
            .images
            .iter()
            .map(|(k, ids)| k.len() + ids.len() * 4 + 64)
            .sum();
        blobs + images
    }

    /// Every blob digest of the known images.
    pub fn blob_digests(&self) -> impl Iterator<Item = &str> {
        self.blobs.iter().map(|b| b.digest.as_str())
    }

    /// Whether the layers of this image are known.
    pub fn knows(&self, digest: &str) -> bool {
        self.images.contains_key(digest)
    }

    /// Images with known layers.
    pub fn images_known(&self) -> usize {
        self.images.len()
    }

    /// The blobs of one image, if known.
    pub fn blobs_of(&self, digest: &str) -> Option<impl Iterator<Item = &BlobInfo>> {
        self.images
            .get(digest)
            .map(|ids| ids.iter().map(|id| &self.blobs[*id as usize]))
    }

    /// Bytes of the distinct blobs of these images (unknown ones are skipped).
    pub fn unique_bytes<'a>(&self, digests: impl IntoIterator<Item = &'a str>) -> u64 {
        let mut seen = vec![false; self.blobs.len()];
        let mut bytes = 0;
        for digest in digests {
            for id in self.images.get(digest).into_iter().flatten() {
                let slot = &mut seen[*id as usize];
                if !*slot {
                    *slot = true;
                    bytes += self.blobs[*id as usize].size;
                }
            }
        }
        bytes
    }

    /// What deleting the tags for which `deleted` holds frees, given every tag of the
    /// repository.
    pub fn freed<'t>(
        &self,
        tags: impl IntoIterator<Item = &'t Tag>,
        deleted: impl Fn(&Tag) -> bool,
    ) -> Freed {
        self.mark(tags, deleted).0
    }

    /// Which blobs deleting the tags for which `deleted` holds leaves unused here, and which
    /// the remaining tags keep (unknown images count as neither).
    pub fn fate<'t>(
        &self,
        tags: impl IntoIterator<Item = &'t Tag>,
        deleted: impl Fn(&Tag) -> bool,
    ) -> BlobFate<'_> {
        let (_, marking) = self.mark(tags, deleted);
        self.fate_of(&marking)
    }

    /// Both at once, from one pass over the tags.
    pub fn freed_and_fate<'t>(
        &self,
        tags: impl IntoIterator<Item = &'t Tag>,
        deleted: impl Fn(&Tag) -> bool,
    ) -> (Freed, BlobFate<'_>) {
        let (freed, marking) = self.mark(tags, deleted);
        (freed, self.fate_of(&marking))
    }

    fn fate_of(&self, marking: &Marking) -> BlobFate<'_> {
        BlobFate {
            freed: marking
                .freed
                .iter()
                .map(|id| {
                    let blob = &self.blobs[*id as usize];
                    (blob.digest.as_str(), blob.size)
                })
                .collect(),
            kept: marking
                .kept
                .iter()
                .enumerate()
                .filter(|(_, kept)| **kept)
                .map(|(id, _)| self.blobs[id].digest.as_str())
                .collect(),
        }
    }

    /// The one marking pass: the blobs the remaining images use are kept; the blobs of the
    /// images left without a tag that no kept image uses are freed, each once.
    fn mark<'t>(
        &self,
        tags: impl IntoIterator<Item = &'t Tag>,
        deleted: impl Fn(&Tag) -> bool,
    ) -> (Freed, Marking) {
        let mut freed = Freed::default();
        let mut kept_images: HashSet<&str> = HashSet::new();
        let mut untagged: Vec<&str> = Vec::new();
        for tag in tags {
            let gone = deleted(tag);
            if gone {
                freed.tags += 1;
                freed.naive_bytes += tag.total_size.unwrap_or(0);
            }
            match (tag.digest.as_deref(), gone) {
                (Some(digest), true) => untagged.push(digest),
                (Some(digest), false) => {
                    kept_images.insert(digest);
                }
                (None, _) => {}
            }
        }
        let mut marking = Marking {
            kept: vec![false; self.blobs.len()],
            freed: Vec::new(),
        };
        for digest in &kept_images {
            match self.images.get(*digest) {
                Some(ids) => ids.iter().for_each(|id| marking.kept[*id as usize] = true),
                None => freed.unknown_kept += 1,
            }
        }
        let mut used = marking.kept.clone();
        let mut counted_images: HashSet<&str> = HashSet::new();
        for digest in untagged {
            if kept_images.contains(digest) {
                freed.kept_by_other_tags += 1;
                continue;
            }
            if !counted_images.insert(digest) {
                continue;
            }
            freed.images += 1;
            match self.images.get(digest) {
                Some(ids) => {
                    for id in ids.iter() {
                        let slot = &mut used[*id as usize];
                        if !*slot {
                            *slot = true;
                            freed.bytes += self.blobs[*id as usize].size;
                            marking.freed.push(*id);
                        }
                    }
                }
                None => freed.unknown_images += 1,
            }
        }
        (freed, marking)
    }

    /// How many tags and distinct images use each blob (indexed by blob id), and the tags'
    /// sizes added up.
    fn usage<'t>(&self, tags: impl IntoIterator<Item = &'t Tag>) -> Usage<'t> {
        let mut usage = Usage {
            tag_uses: vec![0u32; self.blobs.len()],
            image_uses: vec![0u32; self.blobs.len()],
            images: HashSet::new(),
            naive_bytes: 0,
        };
        for tag in tags {
            usage.naive_bytes += tag.total_size.unwrap_or(0);
            let Some(digest) = tag.digest.as_deref() else {
                continue;
            };
            let first = usage.images.insert(digest);
            for id in self.images.get(digest).into_iter().flatten() {
                usage.tag_uses[*id as usize] += 1;
                if first {
                    usage.image_uses[*id as usize] += 1;
                }
            }
        }
        usage
    }

    /// The repository's deduplicated storage and its largest layers, from every tag.
    pub fn summary<'t>(
        &self,
        tags: impl IntoIterator<Item = &'t Tag>,
        shown: usize,
    ) -> StorageSummary {
        let Usage {
            tag_uses,
            image_uses,
            images,
            naive_bytes,
        } = self.usage(tags);
        let mut summary = StorageSummary {
            naive_bytes,
            ..StorageSummary::default()
        };
        summary.images = images.len() as u64;
        summary.images_known = images.iter().filter(|d| self.knows(d)).count() as u64;
        let mut used: Vec<u32> = (0..self.blobs.len() as u32)
            .filter(|id| tag_uses[*id as usize] > 0)
            .collect();
        summary.blobs = used.len() as u64;
        summary.unique_bytes = used.iter().map(|id| self.blobs[*id as usize].size).sum();
        used.retain(|id| !self.blobs[*id as usize].is_config);
        used.sort_unstable_by(|a, b| {
            let (x, y) = (&self.blobs[*a as usize], &self.blobs[*b as usize]);
            y.size.cmp(&x.size).then_with(|| x.digest.cmp(&y.digest))
        });
        summary.largest = used
            .into_iter()
            .take(shown)
            .map(|id| {
                let blob = &self.blobs[id as usize];
                LayerUse {
                    digest: blob.digest.clone(),
                    size: blob.size,
                    media_type: blob.media_type.clone(),
                    tags: u64::from(tag_uses[id as usize]),
                    images: u64::from(image_uses[id as usize]),
                }
            })
            .collect();
        summary
    }
}

/// A repository's storage as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryStorage {
    pub repository_id: u64,
    pub summary: StorageSummary,
    pub progress: LayerProgress,
    /// GitLab's own deduplicated size (metadata database only).
    pub gitlab_size: Option<u64>,
    /// Tags in the index (all of them once it is complete).
    pub tags: u64,
    /// How the tags spread over age, size and name families.
    pub shape: crate::shape::RepositoryShape,
    pub now: i64,
    /// Layers were not read: the repository is large, and reading them waits for the user
    /// to ask (it costs about one GitLab request per 16 images).
    #[serde(default)]
    pub on_request: bool,
}

/// What deleting some tags frees, as far as the layers are known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeletionEstimate {
    pub freed: Freed,
    pub progress: LayerProgress,
    /// Names not in the index (deleted meanwhile or not indexed yet).
    pub unknown: u64,
}

/// Two tags of one repository side by side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagComparison {
    pub repository: crate::tags::RepositoryHeader,
    pub a: Tag,
    pub b: Tag,
    /// Per platform (one entry for two plain images).
    pub images: Vec<ImageComparison>,
    /// Why the layers could not be compared, if they could not.
    pub unavailable: Option<String>,
    pub now: i64,
}

impl TagComparison {
    /// Both tags name the same image.
    pub fn same_image(&self) -> bool {
        self.a.digest.is_some() && self.a.digest == self.b.digest
    }
}

/// Which blobs a deletion leaves unused in one repository, and which stay in use there:
/// what a project-wide figure needs (a blob one repository frees stays while another
/// repository of the project still uses it).
#[derive(Clone, Debug, Default)]
pub struct BlobFate<'a> {
    pub freed: Vec<(&'a str, u64)>,
    pub kept: HashSet<&'a str>,
}

/// Which blobs a marking pass keeps (by blob id) and frees.
struct Marking {
    kept: Vec<bool>,
    freed: Vec<u32>,
}

/// Per-blob use counts of one repository's tags.
struct Usage<'t> {
    tag_uses: Vec<u32>,
    image_uses: Vec<u32>,
    images: HashSet<&'t str>,
    naive_bytes: u64,
}

/// Bytes freed across repositories: blobs some repository frees and none keeps, each once.
pub fn project_freed(fates: &[BlobFate<'_>]) -> u64 {
    let kept: HashSet<&str> = fates.iter().flat_map(|f| f.kept.iter().copied()).collect();
    let mut counted: HashSet<&str> = HashSet::new();
    fates
        .iter()
        .flat_map(|f| f.freed.iter())
        .filter(|(digest, _)| !kept.contains(digest) && counted.insert(digest))
        .map(|(_, size)| size)
        .sum()
}

/// One repository's figures in a cleanup preview: the draft's and the saved policy's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryFreed {
    pub id: u64,
    pub draft: Freed,
    pub saved: Freed,
    pub progress: LayerProgress,
    /// Layers not read: a large repository whose layers nobody asked for yet.
    pub on_request: bool,
}

/// A cleanup preview's storage figures, layer by layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CleanupStorage {
    pub repositories: Vec<RepositoryFreed>,
    /// Across the project: a layer another repository keeps is not freed.
    pub draft_bytes: u64,
    pub saved_bytes: u64,
    /// Every repository's layers are read.
    pub complete: bool,
}

/// One repository's share of a project's storage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RepositoryShare {
    pub id: u64,
    pub path: String,
    pub tags: u64,
    /// Its distinct blobs, each once (from the layers read so far).
    pub unique_bytes: u64,
    /// Its tags' sizes added up.
    pub naive_bytes: u64,
    /// Of `unique_bytes`, the blobs another repository of the project uses too.
    pub shared_bytes: u64,
    pub progress: LayerProgress,
    /// Layers not read: a large repository whose layers nobody asked for yet.
    pub on_request: bool,
}

/// A layer of a project and how widely it is used across its repositories.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectLayerUse {
    /// Tags and images summed over the repositories.
    pub layer: LayerUse,
    /// Repositories whose images hold it.
    pub repositories: u64,
}

/// A project's container storage: each blob once however many tags and repositories use it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectStorage {
    pub repositories: Vec<RepositoryShare>,
    /// Distinct blobs of the read images of every repository, each once.
    pub unique_bytes: u64,
    pub blobs: u64,
    /// The repositories' own deduplicated figures added up (a blob two repositories use
    /// counts twice).
    pub repositories_bytes: u64,
    /// Bytes of the blobs two or more repositories use, each once.
    pub shared_bytes: u64,
    /// Every tag's size added up.
    pub naive_bytes: u64,
    /// Largest layers first.
    pub largest: Vec<ProjectLayerUse>,
    /// GitLab's own figure for the project (project statistics; the metadata database
    /// computes it), when GitLab reports one.
    pub gitlab_size: Option<u64>,
    /// Every repository's layers are read.
    pub complete: bool,
    /// More repositories exist than the figures cover.
    #[serde(default)]
    pub truncated: bool,
    pub now: i64,
}

/// Per blob digest across repositories.
struct ProjectBlob<'a> {
    blob: &'a BlobInfo,
    tags: u64,
    images: u64,
    repositories: u64,
}

/// The project's figures from each repository's layers and tags (`share` gives the id,
/// path, progress and on-request flag; the figures are filled in). Blobs are matched by
/// digest across repositories: GitLab stores a blob once however many repositories of the
/// namespace reference it.
pub fn project_storage<'a>(
    repositories: impl IntoIterator<Item = (RepositoryShare, &'a Layers, &'a [Tag])>,
    shown: usize,
) -> ProjectStorage {
    let mut out = ProjectStorage {
        complete: true,
        ..ProjectStorage::default()
    };
    let mut merged: HashMap<&'a str, ProjectBlob<'a>> = HashMap::new();
    let mut used_per_repository: Vec<Vec<&'a str>> = Vec::new();
    for (mut share, layers, tags) in repositories {
        let usage = layers.usage(tags);
        share.tags = tags.len() as u64;
        share.naive_bytes = usage.naive_bytes;
        share.unique_bytes = 0;
        let mut used = Vec::new();
        for (id, blob) in layers.blobs.iter().enumerate() {
            if usage.tag_uses[id] == 0 {
                continue;
            }
            share.unique_bytes += blob.size;
            used.push(blob.digest.as_str());
            let entry = merged.entry(blob.digest.as_str()).or_insert(ProjectBlob {
                blob,
                tags: 0,
                images: 0,
                repositories: 0,
            });
            entry.tags += u64::from(usage.tag_uses[id]);
            entry.images += u64::from(usage.image_uses[id]);
            entry.repositories += 1;
        }
        out.complete &= share.progress.complete && !share.on_request;
        out.naive_bytes += share.naive_bytes;
        out.repositories_bytes += share.unique_bytes;
        used_per_repository.push(used);
        out.repositories.push(share);
    }
    for (share, used) in out.repositories.iter_mut().zip(&used_per_repository) {
        share.shared_bytes = used
            .iter()
            .filter_map(|d| merged.get(d))
            .filter(|b| b.repositories > 1)
            .map(|b| b.blob.size)
            .sum();
    }
    out.blobs = merged.len() as u64;
    out.unique_bytes = merged.values().map(|b| b.blob.size).sum();
    out.shared_bytes = merged
        .values()
        .filter(|b| b.repositories > 1)
        .map(|b| b.blob.size)
        .sum();
    let mut layers: Vec<&ProjectBlob> = merged.values().filter(|b| !b.blob.is_config).collect();
    layers.sort_unstable_by(|x, y| {
        y.blob
            .size
            .cmp(&x.blob.size)
            .then_with(|| x.blob.digest.cmp(&y.blob.digest))
    });
    out.largest = layers
        .into_iter()
        .take(shown)
        .map(|b| ProjectLayerUse {
            layer: LayerUse {
                digest: b.blob.digest.clone(),
                size: b.blob.size,
                media_type: b.blob.media_type.clone(),
                tags: b.tags,
                images: b.images,
            },
            repositories: b.repositories,
        })
        .collect();
    out
}

/// Where a layer of a comparison is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Side {
    Both,
    OnlyA,
    OnlyB,
}

/// One row of two aligned layer stacks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayerRow {
    pub digest: String,
    pub size: u64,
    pub media_type: Option<String>,
    pub side: Side,
    /// 1-based height in A's and B's stack.
    pub in_a: Option<u32>,
    pub in_b: Option<u32>,
}

/// Two single-platform images compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageComparison {
    /// `linux/arm64` for index children; `None` for plain images.
    pub platform: Option<String>,
    pub a: Option<String>,
    pub b: Option<String>,
    pub rows: Vec<LayerRow>,
    pub a_config: Option<Descriptor>,
    pub b_config: Option<Descriptor>,
    /// Config plus layers of each side.
    pub a_bytes: u64,
    pub b_bytes: u64,
    /// Layers (and a config) both have, each once.
    pub shared_bytes: u64,
    pub only_a_bytes: u64,
    pub only_b_bytes: u64,
}

/// Pairs what two manifests hold and aligns each pair's layers. Index children are paired
/// by platform; an image against an index is paired with the child it shares most bytes
/// with. `lookup` resolves children.
pub fn compare(
    a: &Manifest,
    a_digest: &str,
    b: &Manifest,
    b_digest: &str,
    lookup: impl Fn(&str) -> Option<Arc<Manifest>>,
) -> Vec<ImageComparison> {
    type Stack = (Descriptor, Vec<Descriptor>);
    let stack = |m: &Manifest| -> Option<Stack> {
        match m {
            Manifest::Image { config, layers, .. } => Some((config.clone(), layers.clone())),
            Manifest::Index { .. } => None,
        }
    };
    // (platform label, digest, stack) per side.
    let sides = |m: &Manifest, digest: &str| -> Vec<(Option<String>, String, Option<Stack>)> {
        match m {
            Manifest::Image { .. } => vec![(None, digest.to_string(), stack(m))],
            Manifest::Index { manifests, .. } => manifests
                .iter()
                .map(|child| {
                    (
                        Some(
                            child
                                .platform
                                .as_ref()
                                .map_or_else(|| "unknown".to_string(), |p| p.label()),
                        ),
                        child.digest.clone(),
                        lookup(&child.digest).as_deref().and_then(stack),
                    )
                })
                .collect(),
        }
    };
    let left = sides(a, a_digest);
    let right = sides(b, b_digest);
    let mut out = Vec::new();
    let both_indexes = left.iter().all(|s| s.0.is_some()) && right.iter().all(|s| s.0.is_some());
    let shared_with = |x: &Option<Stack>, y: &Option<Stack>| -> u64 {
        match (x, y) {
            (Some((_, xl)), Some((_, yl))) => {
                let ys: HashSet<&str> = yl.iter().map(|l| l.digest.as_str()).collect();
                xl.iter()
                    .filter(|l| ys.contains(l.digest.as_str()))
                    .map(|l| l.size)
                    .sum()
            }
            _ => 0,
        }
    };
    if both_indexes {
        let mut right_left: Vec<bool> = vec![true; right.len()];
        for (platform, digest, st) in &left {
            let partner = right
                .iter()
                .enumerate()
                .position(|(i, r)| right_left[i] && r.0 == *platform);
            match partner {
                Some(i) => {
                    right_left[i] = false;
                    let r = &right[i];
                    out.push(align(
                        platform.clone(),
                        Some(digest),
                        st.as_ref(),
                        Some(&r.1),
                        r.2.as_ref(),
                    ));
                }
                None => out.push(align(
                    platform.clone(),
                    Some(digest),
                    st.as_ref(),
                    None,
                    None,
                )),
            }
        }
        for (i, r) in right.iter().enumerate() {
            if right_left[i] {
                out.push(align(r.0.clone(), None, None, Some(&r.1), r.2.as_ref()));
            }
        }
    } else {
        // One side is a plain image (or both are): pair by most shared bytes.
        let (single_left, many, flipped) = if left.len() == 1 && left[0].0.is_none() {
            (&left[0], &right, false)
        } else {
            (&right[0], &left, true)
        };
        // The child sharing the most bytes; on a tie the first real platform (BuildKit's
        // attestation children are `unknown/unknown`).
        let mut best: Option<&(Option<String>, String, Option<Stack>)> = None;
        let mut best_shared = 0;
        for m in many.iter() {
            let shared = shared_with(&single_left.2, &m.2);
            let unknown = m.0.as_deref().is_some_and(|p| p.starts_with("unknown"));
            let better = match best {
                None => true,
                Some(b) => {
                    let b_unknown = b.0.as_deref().is_some_and(|p| p.starts_with("unknown"));
                    shared > best_shared || (shared == best_shared && b_unknown && !unknown)
                }
            };
            if better {
                best = Some(m);
                best_shared = shared;
            }
        }
        let best = best.cloned();
        if let Some((platform, digest, st)) = best {
            let platform = platform.or(single_left.0.clone());
            out.push(if flipped {
                align(
                    platform,
                    Some(&digest),
                    st.as_ref(),
                    Some(&single_left.1),
                    single_left.2.as_ref(),
                )
            } else {
                align(
                    platform,
                    Some(&single_left.1),
                    single_left.2.as_ref(),
                    Some(&digest),
                    st.as_ref(),
                )
            });
        }
    }
    out
}

fn align(
    platform: Option<String>,
    a: Option<&String>,
    a_stack: Option<&(Descriptor, Vec<Descriptor>)>,
    b: Option<&String>,
    b_stack: Option<&(Descriptor, Vec<Descriptor>)>,
) -> ImageComparison {
    let empty: Vec<Descriptor> = Vec::new();
    let xs = a_stack.map_or(&empty, |s| &s.1);
    let ys = b_stack.map_or(&empty, |s| &s.1);
    // Longest common subsequence of digests, then a merge walk. Real images have tens of
    // layers; a manifest with thousands is compared without alignment (A's stack, then what
    // only B has) rather than with a table of their product.
    let (n, m) = (xs.len(), ys.len());
    let aligned = n.saturating_mul(m) <= MAX_ALIGNED_CELLS;
    let mut lcs =
        vec![vec![0u32; if aligned { m + 1 } else { 1 }]; if aligned { n + 1 } else { 1 }];
    if aligned {
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i][j] = if xs[i].digest == ys[j].digest {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
    }
    let row = |d: &Descriptor, side, in_a: Option<usize>, in_b: Option<usize>| LayerRow {
        digest: d.digest.clone(),
        size: d.size,
        media_type: d.media_type.clone(),
        side,
        in_a: in_a.map(|i| i as u32 + 1),
        in_b: in_b.map(|j| j as u32 + 1),
    };
    let mut rows = Vec::with_capacity(n.max(m));
    let (mut i, mut j) = (0, 0);
    if !aligned {
        rows.extend(
            xs.iter()
                .enumerate()
                .map(|(i, d)| row(d, Side::OnlyA, Some(i), None)),
        );
        rows.extend(
            ys.iter()
                .enumerate()
                .map(|(j, d)| row(d, Side::OnlyB, None, Some(j))),
        );
        (i, j) = (n, m);
    }
    while i < n || j < m {
        if i < n && j < m && xs[i].digest == ys[j].digest {
            rows.push(row(&xs[i], Side::Both, Some(i), Some(j)));
            i += 1;
            j += 1;
        } else if j >= m || (i < n && lcs[i + 1][j] >= lcs[i][j + 1]) {
            rows.push(row(&xs[i], Side::OnlyA, Some(i), None));
            i += 1;
        } else {
            rows.push(row(&ys[j], Side::OnlyB, None, Some(j)));
            j += 1;
        }
    }
    // A layer both have at different heights is shared storage all the same.
    let a_set: HashSet<&str> = xs.iter().map(|d| d.digest.as_str()).collect();
    let b_set: HashSet<&str> = ys.iter().map(|d| d.digest.as_str()).collect();
    for r in &mut rows {
        if r.side != Side::Both
            && a_set.contains(r.digest.as_str())
            && b_set.contains(r.digest.as_str())
        {
            r.side = Side::Both;
        }
    }
    let configs = [a_stack.map(|s| &s.0), b_stack.map(|s| &s.0)];
    let mut blobs: HashMap<&str, (u64, bool, bool)> = HashMap::new();
    for (k, list) in [xs, ys].iter().enumerate() {
        for d in list.iter().chain(configs[k]) {
            let e = blobs
                .entry(d.digest.as_str())
                .or_insert((d.size, false, false));
            if k == 0 {
                e.1 = true;
            } else {
                e.2 = true;
            }
        }
    }
    let mut cmp = ImageComparison {
        platform,
        a: a.cloned(),
        b: b.cloned(),
        rows,
        a_config: configs[0].cloned(),
        b_config: configs[1].cloned(),
        a_bytes: 0,
        b_bytes: 0,
        shared_bytes: 0,
        only_a_bytes: 0,
        only_b_bytes: 0,
    };
    for (size, in_a, in_b) in blobs.into_values() {
        match (in_a, in_b) {
            (true, true) => cmp.shared_bytes += size,
            (true, false) => cmp.only_a_bytes += size,
            (false, true) => cmp.only_b_bytes += size,
            (false, false) => {}
        }
    }
    cmp.a_bytes = cmp.shared_bytes + cmp.only_a_bytes;
    cmp.b_bytes = cmp.shared_bytes + cmp.only_b_bytes;
    cmp
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn digest(n: u64) -> String {
        format!("sha256:{n:064x}")
    }

    fn desc(n: u64, size: u64) -> Descriptor {
        Descriptor {
            digest: digest(n),
            size,
            media_type: None,
            platform: None,
        }
    }

    fn image(config: u64, layers: &[(u64, u64)]) -> Manifest {
        Manifest::Image {
            media_type: None,
            config: desc(config, 10),
            layers: layers.iter().map(|(d, s)| desc(*d, *s)).collect(),
        }
    }

    fn tag(name: &str, image: Option<u64>, size: Option<u64>) -> Tag {
        Tag {
            name: name.into(),
            digest: image.map(digest),
            total_size: size,
            ..Tag::default()
        }
    }

    type Store = HashMap<String, Arc<Manifest>>;

    fn lookup(store: &Store) -> impl Fn(&str) -> Option<Arc<Manifest>> + '_ {
        move |d| store.get(d).cloned()
    }

    #[test]
    fn a_shared_base_is_freed_only_with_its_last_image() {
        let mut store = Store::new();
        // Base layer 100 (1000 bytes) shared; each image has its own app layer.
        store.insert(digest(1), Arc::new(image(11, &[(100, 1000), (101, 50)])));
        store.insert(digest(2), Arc::new(image(12, &[(100, 1000), (102, 60)])));
        let tags = [
            tag("v1", Some(1), Some(1060)),
            tag("v2", Some(2), Some(1070)),
            tag("latest", Some(2), Some(1070)),
        ];
        let layers = Layers::build(
            tags.iter().filter_map(|t| t.digest.as_deref()),
            lookup(&store),
        );
        let freed = layers.freed(&tags, |t| t.name == "v1");
        assert_eq!(
            freed.bytes,
            50 + 10,
            "the app layer and config, not the base"
        );
        assert_eq!(freed.naive_bytes, 1060);
        let freed = layers.freed(&tags, |t| t.name == "v2");
        assert_eq!(
            (freed.bytes, freed.kept_by_other_tags),
            (0, 1),
            "latest keeps it"
        );
        let all = layers.freed(&tags, |_| true);
        assert_eq!(all.bytes, 1000 + 50 + 60 + 20);
        assert_eq!(all.images, 2);
        let summary = layers.summary(&tags, 1);
        assert_eq!(summary.unique_bytes, all.bytes);
        assert_eq!(summary.largest[0].tags, 3);
        assert_eq!(summary.largest[0].images, 2);
    }

    #[test]
    fn unknown_images_make_the_figure_partial() {
        let mut store = Store::new();
        store.insert(digest(1), Arc::new(image(11, &[(100, 1000)])));
        let tags = [tag("a", Some(1), Some(1010)), tag("b", Some(2), Some(5))];
        let layers = Layers::build(
            tags.iter().filter_map(|t| t.digest.as_deref()),
            lookup(&store),
        );
        let freed = layers.freed(&tags, |t| t.name == "a");
        assert!(freed.partial());
        assert_eq!(freed.unknown_kept, 1);
        let freed = layers.freed(&tags, |t| t.name == "b");
        assert_eq!(freed.unknown_images, 1);
    }

    #[test]
    fn an_index_counts_its_children_and_needs_them_all() {
        let mut store = Store::new();
        store.insert(digest(1), Arc::new(image(11, &[(100, 1000)])));
        store.insert(
            digest(9),
            Arc::new(Manifest::Index {
                media_type: None,
                manifests: vec![desc(1, 500), desc(2, 500)],
            }),
        );
        let layers = Layers::build([digest(9).as_str()], lookup(&store));
        assert!(!layers.knows(&digest(9)), "child 2 is missing");
        store.insert(digest(2), Arc::new(image(12, &[(200, 2000)])));
        let layers = Layers::build([digest(9).as_str()], lookup(&store));
        assert_eq!(layers.unique_bytes([digest(9).as_str()]), 1000 + 2000 + 20);
    }

    #[test]
    fn comparison_aligns_layers_and_splits_bytes() {
        let a = image(11, &[(1, 100), (2, 20), (3, 5)]);
        let b = image(12, &[(1, 100), (2, 20), (4, 7), (5, 1)]);
        let store = Store::new();
        let cmp = compare(&a, &digest(90), &b, &digest(91), lookup(&store));
        assert_eq!(cmp.len(), 1);
        let sides: Vec<Side> = cmp[0].rows.iter().map(|r| r.side).collect();
        assert_eq!(
            sides,
            [
                Side::Both,
                Side::Both,
                Side::OnlyA,
                Side::OnlyB,
                Side::OnlyB
            ]
        );
        assert_eq!(cmp[0].shared_bytes, 120);
        assert_eq!(cmp[0].only_a_bytes, 5 + 10);
        assert_eq!(cmp[0].only_b_bytes, 8 + 10);
        assert_eq!(cmp[0].a_bytes, 135);
    }

    #[test]
    fn huge_stacks_are_compared_without_an_alignment_table() {
        let a: Vec<(u64, u64)> = (0..600).map(|l| (l, 1)).collect();
        let b: Vec<(u64, u64)> = (300..900).map(|l| (l, 1)).collect();
        let store = Store::new();
        let cmp = compare(
            &image(10_000, &a),
            &digest(90),
            &image(10_001, &b),
            &digest(91),
            lookup(&store),
        );
        assert_eq!(cmp[0].rows.len(), 1200);
        assert_eq!(cmp[0].shared_bytes, 300);
        assert_eq!(
            cmp[0].rows.iter().filter(|r| r.side == Side::Both).count(),
            600
        );
    }

    #[test]
    fn index_children_pair_by_platform() {
        let mut store = Store::new();
        let child = |n: u64, arch: &str| Descriptor {
            platform: Some(crate::manifest::Platform {
                os: "linux".into(),
                architecture: arch.into(),
                variant: None,
            }),
            ..desc(n, 1)
        };
        store.insert(digest(1), Arc::new(image(11, &[(100, 1000), (101, 1)])));
        store.insert(digest(2), Arc::new(image(12, &[(200, 900), (201, 1)])));
        store.insert(digest(3), Arc::new(image(13, &[(100, 1000), (102, 1)])));
        let a = Manifest::Index {
            media_type: None,
            manifests: vec![child(1, "amd64"), child(2, "arm64")],
        };
        let b = Manifest::Index {
            media_type: None,
            manifests: vec![child(3, "amd64")],
        };
        let cmp = compare(&a, &digest(8), &b, &digest(9), lookup(&store));
        assert_eq!(cmp.len(), 2);
        assert_eq!(cmp[0].platform.as_deref(), Some("linux/amd64"));
        assert_eq!(cmp[0].shared_bytes, 1000);
        assert_eq!(cmp[1].b, None, "arm64 only in A");
        // A plain image against the index pairs with the child it shares the base with.
        let plain = image(14, &[(200, 900), (203, 3)]);
        let cmp = compare(&plain, &digest(7), &a, &digest(8), lookup(&store));
        assert_eq!(cmp[0].platform.as_deref(), Some("linux/arm64"));
        assert_eq!(cmp[0].shared_bytes, 900);
    }

    /// Repositories of up to 12 images over a pool of 20 blobs, and up to 20 tags.
    fn repository() -> impl Strategy<Value = (Store, Vec<Tag>, Vec<bool>)> {
        let images = prop::collection::vec(prop::collection::vec(0u64..20, 1..8), 1..12);
        let sizes = prop::collection::vec(1u64..10_000, 20);
        (
            images,
            sizes,
            prop::collection::vec((0usize..12, any::<bool>()), 1..20),
        )
            .prop_map(|(images, sizes, tags)| {
                let mut store = Store::new();
                let mut totals = Vec::new();
                for (i, layer_ids) in images.iter().enumerate() {
                    let mut seen = HashSet::new();
                    let layers: Vec<(u64, u64)> = layer_ids
                        .iter()
                        .filter(|l| seen.insert(**l))
                        .map(|l| (1000 + l, sizes[*l as usize]))
                        .collect();
                    let config = 5000 + i as u64;
                    totals.push(layers.iter().map(|l| l.1).sum::<u64>() + 10);
                    store.insert(digest(i as u64), Arc::new(image(config, &layers)));
                }
                let n = images.len();
                let (tags, deleted) = tags
                    .into_iter()
                    .enumerate()
                    .map(|(k, (img, del))| {
                        let img = img % n;
                        (
                            tag(&format!("t{k}"), Some(img as u64), Some(totals[img])),
                            del,
                        )
                    })
                    .unzip();
                (store, tags, deleted)
            })
    }

    proptest! {
        #[test]
        fn freed_never_exceeds_the_naive_sum((store, tags, deleted) in repository()) {
            let layers = Layers::build(
                tags.iter().filter_map(|t| t.digest.as_deref()),
                lookup(&store),
            );
            let gone: HashSet<&str> = tags
                .iter()
                .zip(&deleted)
                .filter(|(_, d)| **d)
                .map(|(t, _)| t.name.as_str())
                .collect();
            let freed = layers.freed(&tags, |t| gone.contains(t.name.as_str()));
            prop_assert!(freed.bytes <= freed.naive_bytes);
            prop_assert!(!freed.partial());
            // Deleting everything frees the repository's unique bytes.
            let all = layers.freed(&tags, |_| true);
            prop_assert_eq!(
                all.bytes,
                layers.unique_bytes(tags.iter().filter_map(|t| t.digest.as_deref()))
            );
            prop_assert_eq!(all.bytes, layers.summary(&tags, 0).unique_bytes);
            // What is freed plus what stays is what there was.
            let stays = layers.unique_bytes(
                tags.iter()
                    .filter(|t| !gone.contains(t.name.as_str()))
                    .filter_map(|t| t.digest.as_deref()),
            );
            prop_assert_eq!(freed.bytes + stays, all.bytes);
        }

        #[test]
        fn a_project_frees_at_most_what_its_repositories_free_and_one_alone_frees_its_own(
            (store, tags, deleted) in repository(),
            (other_store, other_tags, other_deleted) in repository(),
        ) {
            let layers = Layers::build(
                tags.iter().filter_map(|t| t.digest.as_deref()),
                lookup(&store),
            );
            // The second repository's images get their own digests but share blob digests.
            let other_store: Store = other_store
                .into_iter()
                .map(|(d, m)| (format!("{d}-b"), m))
                .collect();
            let other_tags: Vec<Tag> = other_tags
                .into_iter()
                .map(|t| Tag {
                    digest: t.digest.map(|d| format!("{d}-b")),
                    ..t
                })
                .collect();
            let other = Layers::build(
                other_tags.iter().filter_map(|t| t.digest.as_deref()),
                lookup(&other_store),
            );
            let gone = |tags: &[Tag], flags: &[bool]| -> HashSet<String> {
                tags.iter().zip(flags).filter(|(_, d)| **d).map(|(t, _)| t.name.clone()).collect()
            };
            let (g1, g2) = (gone(&tags, &deleted), gone(&other_tags, &other_deleted));
            let f1 = layers.fate(&tags, |t| g1.contains(&t.name));
            let f2 = other.fate(&other_tags, |t| g2.contains(&t.name));
            let alone: u64 = f1.freed.iter().map(|(_, s)| s).sum();
            prop_assert_eq!(alone, layers.freed(&tags, |t| g1.contains(&t.name)).bytes);
            prop_assert_eq!(project_freed(std::slice::from_ref(&f1)), alone);
            let both = project_freed(&[f1.clone(), f2.clone()]);
            let sum = alone + f2.freed.iter().map(|(_, s)| s).sum::<u64>();
            prop_assert!(both <= sum);
        }

        #[test]
        fn a_project_counts_each_blob_once_across_its_repositories(
            (store, tags, _d) in repository(),
            (other_store, other_tags, _e) in repository(),
        ) {
            let layers = Layers::build(
                tags.iter().filter_map(|t| t.digest.as_deref()),
                lookup(&store),
            );
            // One digest, one size, in every repository (as content addressing guarantees).
            let sizes: HashMap<String, u64> = store
                .values()
                .flat_map(|m| match &**m {
                    Manifest::Image { config, layers, .. } => std::iter::once(config)
                        .chain(layers)
                        .map(|d| (d.digest.clone(), d.size))
                        .collect::<Vec<_>>(),
                    Manifest::Index { .. } => Vec::new(),
                })
                .collect();
            let other_store: Store = other_store
                .into_iter()
                .map(|(d, m)| {
                    let fix = |x: &Descriptor| Descriptor {
                        size: sizes.get(&x.digest).copied().unwrap_or(x.size),
                        ..x.clone()
                    };
                    let m = match &*m {
                        Manifest::Image {
                            media_type,
                            config,
                            layers,
                        } => Manifest::Image {
                            media_type: media_type.clone(),
                            config: fix(config),
                            layers: layers.iter().map(fix).collect(),
                        },
                        index => index.clone(),
                    };
                    (d, Arc::new(m))
                })
                .collect();
            let other = Layers::build(
                other_tags.iter().filter_map(|t| t.digest.as_deref()),
                lookup(&other_store),
            );
            let share = |id| RepositoryShare {
                id,
                progress: LayerProgress {
                    complete: true,
                    ..LayerProgress::default()
                },
                ..RepositoryShare::default()
            };
            let one = project_storage([(share(1), &layers, &tags[..])], 3);
            let own = layers.summary(&tags, 3);
            prop_assert_eq!(one.unique_bytes, own.unique_bytes);
            prop_assert_eq!(one.shared_bytes, 0);
            prop_assert_eq!(
                one.largest.iter().map(|l| l.layer.clone()).collect::<Vec<_>>(),
                own.largest
            );
            let both = project_storage(
                [
                    (share(1), &layers, &tags[..]),
                    (share(2), &other, &other_tags[..]),
                ],
                3,
            );
            let (a, b) = (&both.repositories[0], &both.repositories[1]);
            prop_assert_eq!(a.unique_bytes, own.unique_bytes);
            prop_assert_eq!(b.unique_bytes, other.summary(&other_tags, 0).unique_bytes);
            // Counted once: at most the sum, at least the larger, and the overlap is shared.
            prop_assert!(both.unique_bytes <= both.repositories_bytes);
            prop_assert!(both.unique_bytes >= a.unique_bytes.max(b.unique_bytes));
            prop_assert_eq!(both.unique_bytes + both.shared_bytes, both.repositories_bytes);
            prop_assert_eq!(a.shared_bytes, both.shared_bytes);
            prop_assert_eq!(b.shared_bytes, both.shared_bytes);
            prop_assert!(both.complete);
            prop_assert_eq!(both.naive_bytes, a.naive_bytes + b.naive_bytes);
        }

        #[test]
        fn a_tag_whose_image_another_tag_keeps_frees_nothing(
            (store, mut tags, _d) in repository(),
        ) {
            let twin = Tag { name: "twin".into(), ..tags[0].clone() };
            tags.push(twin);
            let layers = Layers::build(
                tags.iter().filter_map(|t| t.digest.as_deref()),
                lookup(&store),
            );
            let freed = layers.freed(&tags, |t| t.name == "twin");
            prop_assert_eq!(freed.bytes, 0);
            prop_assert_eq!(freed.kept_by_other_tags, 1);
        }
    }
}
