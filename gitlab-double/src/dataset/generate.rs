//! Deterministic image and tag generation, shared by the demo dataset and by the dataset format's
//! `generate` section (how the 10,000-tag repository is described without 10,000 JSON entries).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::prng::SplitMix64;
use super::{
    BlobSpec, ImageSpec, PlatformSpec, ReferrerSpec, TagSpec, COSIGN_SIGNATURE, DOCKER_MANIFEST_V2,
    OCI_INDEX, OCI_MANIFEST, SPDX_SBOM,
};

const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Asks the loader to add generated tags (and their images) to a repository.
///
/// The generated names mix semantic-version releases (`v1.0.0` … `v3.x.y`), release candidates
/// (`v2.1.0-rc.1`), `main-<sha>` and `mr-<number>-<sha>` builds, plus `latest` (same image as the
/// newest release). Same `seed` and `tags`, same result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    /// How many tags to generate (including `latest`).
    pub tags: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// Oldest tag age in days (default 730, two years).
    #[serde(default = "default_max_age_days")]
    pub max_age_days: u32,
}

fn default_max_age_days() -> u32 {
    730
}

/// Renders the raw manifest JSON GitLab would return for `image` (config/layers or index entries).
pub(crate) fn render_manifest(image: &ImageSpec) -> String {
    #[derive(Serialize)]
    struct Descriptor<'a> {
        #[serde(rename = "mediaType")]
        media_type: &'a str,
        digest: &'a str,
        size: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        platform: Option<&'a PlatformSpec>,
    }
    #[derive(Serialize)]
    struct Manifest<'a> {
        #[serde(rename = "schemaVersion")]
        schema_version: u8,
        #[serde(rename = "mediaType")]
        media_type: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        config: Option<Descriptor<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        layers: Vec<Descriptor<'a>>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        manifests: Vec<Descriptor<'a>>,
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: &image.media_type,
        config: image.config.as_ref().map(|c| Descriptor {
            media_type: &c.media_type,
            digest: &c.digest,
            size: c.size,
            platform: None,
        }),
        layers: image
            .layers
            .iter()
            .map(|l| Descriptor {
                media_type: &l.media_type,
                digest: &l.digest,
                size: l.size,
                platform: None,
            })
            .collect(),
        manifests: image
            .manifests
            .iter()
            .map(|m| Descriptor {
                media_type: &m.media_type,
                digest: &m.digest,
                size: render_manifest(m).len() as u64,
                platform: m.platform.as_ref(),
            })
            .collect(),
    };
    serde_json::to_string(&manifest).unwrap_or_default()
}

/// Sets `image.digest` to the sha256 of its rendered manifest, like a registry would.
pub(crate) fn seal(image: &mut ImageSpec) {
    let hash = Sha256::digest(render_manifest(image).as_bytes());
    image.digest = format!("sha256:{}", hex::encode(hash));
}

/// Builds images with realistic shapes from a deterministic generator.
pub(crate) struct ImageFactory<'r> {
    rng: &'r mut SplitMix64,
}

impl<'r> ImageFactory<'r> {
    pub(crate) fn new(rng: &'r mut SplitMix64) -> Self {
        Self { rng }
    }

    /// The generator, for callers mixing image and name generation.
    pub(crate) fn rng(&mut self) -> &mut SplitMix64 {
        self.rng
    }

    fn layers(&mut self, total: u64, oci: bool) -> Vec<BlobSpec> {
        let count = self.rng.range(3, 8) as usize;
        // The base layer dominates, the rest share what is left unevenly.
        let weights: Vec<u64> = (0..count)
            .map(|i| {
                if i == 0 {
                    self.rng.range(400, 900)
                } else {
                    self.rng.range(5, 200)
                }
            })
            .collect();
        let sum: u64 = weights.iter().sum::<u64>().max(1);
        let mut left = total;
        let mut out = Vec::with_capacity(count);
        for (i, w) in weights.iter().enumerate() {
            let size = if i + 1 == count {
                left.max(1)
            } else {
                (total * w / sum).clamp(1, left.saturating_sub((count - i - 1) as u64).max(1))
            };
            left = left.saturating_sub(size);
            out.push(BlobSpec {
                digest: self.rng.digest(),
                size,
                media_type: if oci { OCI_LAYER } else { DOCKER_LAYER }.to_owned(),
            });
        }
        out
    }

    /// A single-platform image of roughly `total` bytes built `built` seconds ago.
    pub(crate) fn single(
        &mut self,
        built: u64,
        total: u64,
        oci: bool,
        platform: Option<PlatformSpec>,
        referrers: Vec<ReferrerSpec>,
    ) -> ImageSpec {
        let config = BlobSpec {
            digest: self.rng.digest(),
            size: self.rng.range(1_200, 12_000),
            media_type: if oci { OCI_CONFIG } else { DOCKER_CONFIG }.to_owned(),
        };
        let layers = self.layers(total, oci);
        let mut image = ImageSpec {
            digest: String::new(),
            media_type: if oci {
                OCI_MANIFEST
            } else {
                DOCKER_MANIFEST_V2
            }
            .to_owned(),
            built_seconds_ago: Some(built),
            config: Some(config),
            layers,
            platform: Some(platform.unwrap_or_else(|| linux("amd64", None))),
            manifests: Vec::new(),
            referrers,
        };
        seal(&mut image);
        image
    }

    /// A random-sized single-platform image (5 MB … 2 GB, log-uniform).
    pub(crate) fn random_single(
        &mut self,
        built: u64,
        oci: bool,
        referrers: Vec<ReferrerSpec>,
    ) -> ImageSpec {
        let total = self.rng.log_uniform(5_000_000, 2_000_000_000);
        self.single(built, total, oci, None, referrers)
    }

    /// An OCI index with one child image per platform.
    pub(crate) fn index(
        &mut self,
        built: u64,
        platforms: &[PlatformSpec],
        referrers: Vec<ReferrerSpec>,
    ) -> ImageSpec {
        let base = self.rng.log_uniform(8_000_000, 400_000_000);
        let manifests = platforms
            .iter()
            .map(|p| {
                // Children of one release differ a little in size per architecture.
                let total = base + self.rng.below(base / 5 + 1);
                self.single(built, total, true, Some(p.clone()), Vec::new())
            })
            .collect();
        let mut image = ImageSpec {
            digest: String::new(),
            media_type: OCI_INDEX.to_owned(),
            built_seconds_ago: Some(built),
            config: None,
            layers: Vec::new(),
            platform: None,
            manifests,
            referrers,
        };
        seal(&mut image);
        image
    }

    /// Referrers: a cosign signature and/or an SPDX SBOM.
    pub(crate) fn referrers(&mut self, signature: bool, sbom: bool) -> Vec<ReferrerSpec> {
        let mut out = Vec::new();
        if signature {
            out.push(ReferrerSpec {
                artifact_type: COSIGN_SIGNATURE.to_owned(),
                digest: self.rng.digest(),
            });
        }
        if sbom {
            out.push(ReferrerSpec {
                artifact_type: SPDX_SBOM.to_owned(),
                digest: self.rng.digest(),
            });
        }
        out
    }

    /// When a CI job pushes an image built `built` seconds ago: a little later (never earlier).
    pub(crate) fn push_after(&mut self, built: u64) -> u64 {
        let delay = self.rng.range(20, 15 * MINUTE).min(built);
        built - delay
    }
}

/// `linux/<arch>[/<variant>]`.
pub(crate) fn linux(architecture: &str, variant: Option<&str>) -> PlatformSpec {
    PlatformSpec {
        os: "linux".to_owned(),
        architecture: architecture.to_owned(),
        variant: variant.map(str::to_owned),
    }
}

type Expansion = Arc<(Vec<ImageSpec>, Vec<TagSpec>)>;
type ExpansionKey = (usize, u64, u32, BTreeSet<String>);

/// Expands a [`GenerateSpec`], skipping names already used in the repository.
///
/// Memoised per process: tests start many doubles with the same 10,000-tag repository, and the
/// result depends only on the spec and the names taken.
pub(crate) fn expand(spec: &GenerateSpec, taken: &BTreeSet<String>) -> Expansion {
    static CACHE: OnceLock<Mutex<HashMap<ExpansionKey, Expansion>>> = OnceLock::new();
    let key = (spec.tags, spec.seed, spec.max_age_days, taken.clone());
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return hit.clone();
    }
    let expansion = Arc::new(expand_uncached(spec, taken));
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, expansion.clone());
    expansion
}

fn expand_uncached(
    spec: &GenerateSpec,
    taken: &BTreeSet<String>,
) -> (Vec<ImageSpec>, Vec<TagSpec>) {
    let mut rng = SplitMix64::new(spec.seed);
    let mut factory = ImageFactory::new(&mut rng);
    let max_age = u64::from(spec.max_age_days.max(1)) * DAY;
    let mut names: BTreeSet<String> = taken.clone();
    let mut images = Vec::new();
    let mut tags = Vec::new();
    if spec.tags == 0 {
        return (images, tags);
    }

    let wanted = spec.tags;
    let releases = (wanted * 6 / 100).max(1);
    let candidates = wanted * 3 / 100;
    let mains = wanted * 40 / 100;

    // Releases: v1.0.0 … v3.x.y, oldest first, spread over the whole age range.
    let mut newest_release: Option<(String, u64)> = None;
    let push = |names: &mut BTreeSet<String>,
                images: &mut Vec<ImageSpec>,
                tags: &mut Vec<TagSpec>,
                name: String,
                image: ImageSpec,
                pushed: u64|
     -> bool {
        if tags.len() + 1 >= wanted || !names.insert(name.clone()) {
            return false;
        }
        tags.push(TagSpec {
            name,
            digest: Some(image.digest.clone()),
            pushed_seconds_ago: pushed,
            updated_seconds_ago: None,
        });
        images.push(image);
        true
    };
    for i in 0..releases {
        let major = 1 + i * 3 / releases;
        let in_major = i - (major - 1) * releases / 3;
        let (minor, patch) = (in_major / 10, in_major % 10);
        let name = format!("v{major}.{minor}.{patch}");
        let share = (releases - i) as u64 * max_age / (releases as u64 + 1);
        let built = (share + factory.rng().below(DAY)).clamp(DAY, max_age);
        let sig = factory.rng().chance(0.5);
        let sbom = factory.rng().chance(0.3);
        let referrers = factory.referrers(sig, sbom);
        let image = factory.random_single(built, major >= 2, referrers);
        let pushed = factory.push_after(built);
        let digest = image.digest.clone();
        if push(
            &mut names,
            &mut images,
            &mut tags,
            name.clone(),
            image,
            pushed,
        ) {
            newest_release = Some((digest, pushed));
        }
        if i < candidates && factory.rng().chance(0.6) {
            for rc in 1..=factory.rng().range(1, 3) {
                let rc_built = built + rc * HOUR * 20;
                let image = factory.random_single(rc_built.min(max_age), major >= 2, Vec::new());
                let pushed = factory.push_after(rc_built.min(max_age));
                push(
                    &mut names,
                    &mut images,
                    &mut tags,
                    format!("v{major}.{minor}.{patch}-rc.{rc}"),
                    image,
                    pushed,
                );
            }
        }
    }
    // Builds of the default branch: many recent, some old.
    let mut made = 0;
    while made < mains && tags.len() + 1 < wanted {
        let built = factory.rng().log_uniform(10 * MINUTE, max_age);
        let sha = factory.rng().hex(7);
        let image = factory.random_single(built, true, Vec::new());
        let pushed = factory.push_after(built);
        if push(
            &mut names,
            &mut images,
            &mut tags,
            format!("main-{sha}"),
            image,
            pushed,
        ) {
            made += 1;
        }
    }
    // Merge-request builds fill the rest.
    while tags.len() + 1 < wanted {
        let built = factory.rng().log_uniform(HOUR, max_age.min(365 * DAY));
        let mr = factory.rng().range(1_000, 9_999);
        let sha = factory.rng().hex(7);
        let image = factory.random_single(built, true, Vec::new());
        let pushed = factory.push_after(built);
        push(
            &mut names,
            &mut images,
            &mut tags,
            format!("mr-{mr}-{sha}"),
            image,
            pushed,
        );
    }
    if let Some((digest, pushed)) = newest_release {
        if names.insert("latest".to_owned()) {
            tags.push(TagSpec {
                name: "latest".to_owned(),
                digest: Some(digest),
                pushed_seconds_ago: max_age.min(pushed + 300 * DAY),
                updated_seconds_ago: Some(pushed),
            });
        }
    }
    (images, tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_exactly_the_requested_count_deterministically() {
        let spec = GenerateSpec {
            tags: 2_000,
            seed: 42,
            max_age_days: 730,
        };
        let (images_a, tags_a) = expand_uncached(&spec, &BTreeSet::new());
        let (_, tags_b) = expand_uncached(&spec, &BTreeSet::new());
        assert_eq!(tags_a.len(), 2_000);
        assert_eq!(tags_a, tags_b);
        assert!(tags_a.iter().any(|t| t.name == "latest"));
        assert!(tags_a.iter().any(|t| t.name.starts_with("main-")));
        assert!(tags_a.iter().any(|t| t.name.starts_with("mr-")));
        assert!(tags_a.iter().any(|t| t.name.contains("-rc.")));
        assert_eq!(images_a.len(), 1_999);
    }

    #[test]
    fn sealed_digest_is_the_hash_of_the_manifest() {
        let mut rng = SplitMix64::new(1);
        let mut f = ImageFactory::new(&mut rng);
        let image = f.random_single(DAY, true, Vec::new());
        let hash = hex::encode(Sha256::digest(render_manifest(&image).as_bytes()));
        assert_eq!(image.digest, format!("sha256:{hash}"));
        let total: u64 = image.layers.iter().map(|l| l.size).sum();
        assert!((5_000_000..=2_000_000_000).contains(&total), "{total}");
        assert!((3..=8).contains(&image.layers.len()));
    }
}
