//! Deterministic image and tag generation, shared by the demo dataset and by the dataset format's
//! `generate` section (how the 10,000-tag repository is described without 10,000 JSON entries).
//!
//! Generation runs in two passes. The first decides every build: its name(s), build and push
//! times, base image, shape (single image or multi-platform index) and referrers ([`Planned`]).
//! The second builds the images oldest first on one [`BuildLine`] per repository
//! ([`ImageFactory::build_all`]): base layers from the shared pool, dependency layers that carry
//! over a few consecutive builds, fresh app layers and config (see [`super::bases`]). Each
//! manifest is then rendered and its digest set to the sha256 of that rendering ([`seal`]), so
//! digests are what a registry would compute. The same seed gives the same names, digests, sizes
//! and ages.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::bases::{blobs, Base, BuildLine};
use super::prng::SplitMix64;
use super::{
    BlobSpec, ImageSpec, PlatformSpec, ReferrerSpec, TagSpec, COSIGN_SIGNATURE, DOCKER_MANIFEST_V2,
    OCI_INDEX, OCI_MANIFEST, SPDX_SBOM,
};

const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

const MB: u64 = 1_000_000;
const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Asks the loader to add generated tags (and their images) to a repository.
///
/// The generated names mix semantic-version releases (`v1.0.0` … `v3.x.y`), release candidates
/// (`v2.1.0-rc.1`), `main-<sha>` and `mr-<number>-<sha>` builds, plus `latest` (same image as the
/// newest release). The images are a Go service's: built on `golang` in the oldest third of the
/// history, on `distroless-base` in the middle third and on `distroless-static` since, with
/// dependency layers shared by runs of consecutive builds. Same `seed` and `tags`, same result.
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

/// What a planned build produces.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    /// A single-platform image, with OCI or Docker media types.
    Single {
        /// OCI media types (else Docker's).
        oci: bool,
        /// Its platform.
        platform: PlatformSpec,
    },
    /// An OCI index with one OCI child image per platform.
    Index(Vec<PlatformSpec>),
}

/// One build to make: when, on which base, its shape and its referrers.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    /// Build time, in seconds ago.
    pub built: u64,
    /// The base image from the shared pool.
    pub base: Base,
    /// Single image or index.
    pub shape: Shape,
    /// Referrers of the top manifest.
    pub referrers: Vec<ReferrerSpec>,
}

impl Planned {
    /// A linux/amd64 image.
    pub(crate) fn single(built: u64, base: Base, oci: bool, referrers: Vec<ReferrerSpec>) -> Self {
        Self {
            built,
            base,
            shape: Shape::Single {
                oci,
                platform: linux("amd64", None),
            },
            referrers,
        }
    }

    /// An OCI index over `platforms`.
    pub(crate) fn index(
        built: u64,
        base: Base,
        platforms: &[PlatformSpec],
        referrers: Vec<ReferrerSpec>,
    ) -> Self {
        Self {
            built,
            base,
            shape: Shape::Index(platforms.to_vec()),
            referrers,
        }
    }
}

/// The tags cosign pushes next to an image (`sha256-<hex>.sig`, `.att`, `.sbom`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sidecar {
    /// `cosign sign`: a simple-signing payload.
    Signature,
    /// `cosign attest`: a DSSE envelope with an in-toto statement.
    Attestation,
    /// `cosign attach sbom`: an SPDX document.
    Sbom,
}

impl Sidecar {
    fn suffix(self) -> &'static str {
        match self {
            Sidecar::Signature => "sig",
            Sidecar::Attestation => "att",
            Sidecar::Sbom => "sbom",
        }
    }

    fn layer_media_type(self) -> &'static str {
        match self {
            Sidecar::Signature => "application/vnd.dev.cosign.simplesigning.v1+json",
            Sidecar::Attestation => "application/vnd.dsse.envelope.v1+json",
            Sidecar::Sbom => "text/spdx+json",
        }
    }

    fn layer_size(self) -> (u64, u64) {
        match self {
            Sidecar::Signature => (230, 320),
            Sidecar::Attestation => (4_000, 30_000),
            Sidecar::Sbom => (40_000, 600_000),
        }
    }

    /// The sidecar's tag name for the image `subject` (a `sha256:` digest).
    pub(crate) fn tag_for(self, subject: &str) -> String {
        let hex = subject.strip_prefix("sha256:").unwrap_or(subject);
        format!("sha256-{hex}.{}", self.suffix())
    }
}

/// Base layers by base and platform.
type BaseLayerCache = HashMap<(Base, PlatformSpec), Vec<(String, u64)>>;

/// Builds images from a deterministic generator on the shared base pool (see [`super::bases`]).
pub(crate) struct ImageFactory<'r> {
    rng: &'r mut SplitMix64,
    /// Base layers already derived (deriving one hashes its key).
    bases: BaseLayerCache,
}

impl<'r> ImageFactory<'r> {
    pub(crate) fn new(rng: &'r mut SplitMix64) -> Self {
        Self {
            rng,
            bases: HashMap::new(),
        }
    }

    /// The generator, for callers mixing image and name generation.
    pub(crate) fn rng(&mut self) -> &mut SplitMix64 {
        self.rng
    }

    /// One single-platform image of `plan` on `platform`: base layers, the line's current
    /// dependency layers, fresh app layers and a fresh config.
    fn child(
        &mut self,
        line: &mut BuildLine,
        plan: &Planned,
        oci: bool,
        platform: &PlatformSpec,
        referrers: Vec<ReferrerSpec>,
    ) -> ImageSpec {
        let mut layers = self
            .bases
            .entry((plan.base, platform.clone()))
            .or_insert_with(|| plan.base.layers(platform))
            .clone();
        layers.extend(line.deps_layers(platform));
        layers.extend(line.app_layers(self.rng));
        let config = BlobSpec {
            digest: self.rng.digest(),
            size: self.rng.range(1_200, 12_000),
            media_type: if oci { OCI_CONFIG } else { DOCKER_CONFIG }.to_owned(),
        };
        let mut image = ImageSpec {
            digest: String::new(),
            media_type: if oci {
                OCI_MANIFEST
            } else {
                DOCKER_MANIFEST_V2
            }
            .to_owned(),
            built_seconds_ago: Some(plan.built),
            config: Some(config),
            layers: blobs(layers, if oci { OCI_LAYER } else { DOCKER_LAYER }),
            platform: Some(platform.clone()),
            manifests: Vec::new(),
            referrers,
        };
        seal(&mut image);
        image
    }

    /// The next build of `line` (builds must come oldest first; see [`Self::build_all`]).
    pub(crate) fn build(&mut self, line: &mut BuildLine, plan: &Planned) -> ImageSpec {
        line.next_build(self.rng, plan.base);
        match &plan.shape {
            Shape::Single { oci, platform } => {
                self.child(line, plan, *oci, platform, plan.referrers.clone())
            }
            Shape::Index(platforms) => {
                let manifests = platforms
                    .iter()
                    .map(|p| self.child(line, plan, true, p, Vec::new()))
                    .collect();
                let mut image = ImageSpec {
                    digest: String::new(),
                    media_type: OCI_INDEX.to_owned(),
                    built_seconds_ago: Some(plan.built),
                    config: None,
                    layers: Vec::new(),
                    platform: None,
                    manifests,
                    referrers: plan.referrers.clone(),
                };
                seal(&mut image);
                image
            }
        }
    }

    /// Builds every plan on `line`, oldest first (so "consecutive builds" are consecutive in
    /// time); returns the images in plan order.
    pub(crate) fn build_all(&mut self, line: &mut BuildLine, plans: &[Planned]) -> Vec<ImageSpec> {
        let mut order: Vec<usize> = (0..plans.len()).collect();
        order.sort_by_key(|&i| (Reverse(plans[i].built), i));
        let mut out: Vec<Option<ImageSpec>> = vec![None; plans.len()];
        for i in order {
            out[i] = Some(self.build(line, &plans[i]));
        }
        out.into_iter().flatten().collect()
    }

    /// A cosign sidecar manifest: an OCI manifest with a small config and one small layer, no
    /// platform and no build time (cosign's config carries none).
    pub(crate) fn sidecar(&mut self, kind: Sidecar) -> ImageSpec {
        let (lo, hi) = kind.layer_size();
        let mut image = ImageSpec {
            digest: String::new(),
            media_type: OCI_MANIFEST.to_owned(),
            built_seconds_ago: None,
            config: Some(BlobSpec {
                digest: self.rng.digest(),
                size: self.rng.range(233, 342),
                media_type: OCI_CONFIG.to_owned(),
            }),
            layers: vec![BlobSpec {
                digest: self.rng.digest(),
                size: self.rng.range(lo, hi),
                media_type: kind.layer_media_type().to_owned(),
            }],
            platform: None,
            manifests: Vec::new(),
            referrers: Vec::new(),
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
    // Tag `i` is the build `plans[i]`; `latest` comes last and has no build of its own.
    let mut plans: Vec<Planned> = Vec::new();
    let mut tags: Vec<TagSpec> = Vec::new();
    if spec.tags == 0 {
        return (Vec::new(), tags);
    }

    let wanted = spec.tags;
    let releases = (wanted * 6 / 100).max(1);
    let candidates = wanted * 3 / 100;
    let mains = wanted * 40 / 100;
    // The service started on the golang image, moved to distroless-base, then to
    // distroless-static: one base per third of its history.
    let base_at = |built: u64| {
        if built * 3 > max_age * 2 {
            Base::Golang
        } else if built * 3 > max_age {
            Base::DistrolessGlibc
        } else {
            Base::DistrolessStatic
        }
    };

    // Releases: v1.0.0 … v3.x.y, oldest first, spread over the whole age range.
    let mut newest_release: Option<(usize, u64)> = None;
    let push = |names: &mut BTreeSet<String>,
                plans: &mut Vec<Planned>,
                tags: &mut Vec<TagSpec>,
                name: String,
                plan: Planned,
                pushed: u64|
     -> Option<usize> {
        if tags.len() + 1 >= wanted || !names.insert(name.clone()) {
            return None;
        }
        tags.push(TagSpec {
            name,
            digest: None,
            pushed_seconds_ago: pushed,
            updated_seconds_ago: None,
        });
        plans.push(plan);
        Some(plans.len() - 1)
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
        let plan = Planned::single(built, base_at(built), major >= 2, referrers);
        let pushed = factory.push_after(built);
        if let Some(index) = push(&mut names, &mut plans, &mut tags, name, plan, pushed) {
            newest_release = Some((index, pushed));
        }
        if i < candidates && factory.rng().chance(0.6) {
            for rc in 1..=factory.rng().range(1, 3) {
                let rc_built = (built + rc * HOUR * 20).min(max_age);
                let plan = Planned::single(rc_built, base_at(rc_built), major >= 2, Vec::new());
                let pushed = factory.push_after(rc_built);
                push(
                    &mut names,
                    &mut plans,
                    &mut tags,
                    format!("v{major}.{minor}.{patch}-rc.{rc}"),
                    plan,
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
        let plan = Planned::single(built, base_at(built), true, Vec::new());
        let pushed = factory.push_after(built);
        let name = format!("main-{sha}");
        if push(&mut names, &mut plans, &mut tags, name, plan, pushed).is_some() {
            made += 1;
        }
    }
    // Merge-request builds fill the rest.
    while tags.len() + 1 < wanted {
        let built = factory.rng().log_uniform(HOUR, max_age.min(365 * DAY));
        let mr = factory.rng().range(1_000, 9_999);
        let sha = factory.rng().hex(7);
        let plan = Planned::single(built, base_at(built), true, Vec::new());
        let pushed = factory.push_after(built);
        let name = format!("mr-{mr}-{sha}");
        push(&mut names, &mut plans, &mut tags, name, plan, pushed);
    }

    // The images, oldest build first, on one line: dependency layers carry over a few builds.
    let mut line = BuildLine::new(format!("generated/{}", spec.seed), (8 * MB, 45 * MB));
    let images = factory.build_all(&mut line, &plans);
    for (tag, image) in tags.iter_mut().zip(&images) {
        tag.digest = Some(image.digest.clone());
    }
    if let Some((index, pushed)) = newest_release {
        if names.insert("latest".to_owned()) {
            tags.push(TagSpec {
                name: "latest".to_owned(),
                digest: images.get(index).map(|i| i.digest.clone()),
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
        let mut line = BuildLine::new("t", (MB, 2 * MB));
        let plan = Planned::single(DAY, Base::DistrolessStatic, true, Vec::new());
        let image = f.build(&mut line, &plan);
        let hash = hex::encode(Sha256::digest(render_manifest(&image).as_bytes()));
        assert_eq!(image.digest, format!("sha256:{hash}"));
        // Three distroless layers, 1–2 dependency layers, 1–2 app layers.
        assert!((5..=7).contains(&image.layers.len()), "{:?}", image.layers);
        let sidecar = f.sidecar(Sidecar::Attestation);
        let hash = hex::encode(Sha256::digest(render_manifest(&sidecar).as_bytes()));
        assert_eq!(sidecar.digest, format!("sha256:{hash}"));
        assert_eq!(sidecar.layers.len(), 1);
    }

    #[test]
    fn consecutive_builds_share_dependency_layers_but_never_app_layers() {
        let spec = GenerateSpec {
            tags: 2_000,
            seed: 42,
            max_age_days: 730,
        };
        let (mut images, _) = expand_uncached(&spec, &BTreeSet::new());
        images.sort_by_key(|i| Reverse(i.built_seconds_ago));
        let mut uses: HashMap<&str, usize> = HashMap::new();
        for image in &images {
            for layer in &image.layers {
                *uses.entry(layer.digest.as_str()).or_default() += 1;
            }
        }
        // The top layer is always the build's own.
        for image in &images {
            let top = image.layers.last().map(|l| l.digest.as_str()).unwrap_or("");
            assert_eq!(uses.get(top), Some(&1), "{}", image.digest);
        }
        // Neighbours in time share more than their base most of the time.
        let shared_above_base = images
            .windows(2)
            .filter(|w| {
                let base = |i: &ImageSpec| {
                    i.layers
                        .iter()
                        .take_while(|l| uses[l.digest.as_str()] > 8)
                        .count()
                };
                let (a, b) = (&w[0], &w[1]);
                a.layers
                    .iter()
                    .skip(base(a))
                    .any(|l| b.layers.iter().skip(base(b)).any(|m| m.digest == l.digest))
            })
            .count();
        assert!(
            shared_above_base * 2 > images.len(),
            "{shared_above_base} of {}",
            images.len()
        );
        // Three eras of bases: golang images are the big ones.
        let oldest = images.first().map_or(0, |i| i.layers.len());
        assert!(oldest >= 7, "golang: debian-slim, four layers, deps, app");
    }

    #[test]
    fn sidecar_tags_name_their_subject() {
        let subject = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            Sidecar::Signature.tag_for(&subject),
            format!("sha256-{}.sig", "ab".repeat(32))
        );
        assert!(Sidecar::Sbom.tag_for(&subject).ends_with(".sbom"));
        assert!(Sidecar::Attestation.tag_for(&subject).ends_with(".att"));
    }
}
