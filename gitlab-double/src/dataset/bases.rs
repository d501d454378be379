//! Base images shared by every repository of a dataset, and the build lines that stack a
//! repository's own layers on them.
//!
//! A registry stores each blob once, so what a tag really costs depends on the layers it shares
//! with other tags. The generated images share layers the way real builds do:
//!
//! - **Base pool** ([`Base`]): a fixed table of base images — alpine (one ~3.6 MB layer),
//!   debian-slim and ubuntu (one ~29 MB layer each), distroless-static (~1.8 MB in three layers),
//!   distroless-base (distroless-static plus ~16 MB) and the node, python and golang runtimes on
//!   debian-slim (2–4 more layers of tens to hundreds of MB). The digest of layer `i` of a base
//!   is the sha256 of `base/<name>/<os/arch[/variant]>/<i>`; its size is the nominal amd64 size
//!   scaled per architecture, with a ±7 % wobble read from the same hash. The pool is a pure
//!   function of those keys, so the whole dataset (demo repositories, the `generate` expansions,
//!   any JSON dataset) shares it: every image built on alpine for amd64 has the same alpine layer,
//!   in any repository or project, while the amd64 and arm64 variants share nothing. A runtime's
//!   layers are its parent's followed by its own (node's start with debian-slim's). Bases are
//!   pinned: one version each, so all builds of a repository on one base share it.
//! - **Build line** ([`BuildLine`]): a repository's builds, visited oldest first. Above the base
//!   sit 1–2 dependency layers (`node_modules`, wheels, Go modules, …) of the size typical for the
//!   base. They stay the same for 3–8 consecutive builds, and change when that count runs out or
//!   the repository moves to another base (a new `FROM`). Their digests derive from the line's
//!   key, the dependency version and the platform, so every platform of a build changes at once,
//!   and platforms share nothing with each other.
//! - **App layers**: 1–2 layers unique to each build (random digests from the line's generator):
//!   the application, and sometimes a small layer of configuration or static files.
//!
//! Configs stay unique per image (see [`super::generate::ImageFactory`]).

use sha2::{Digest, Sha256};

use super::prng::SplitMix64;
use super::{BlobSpec, PlatformSpec};

const KB: u64 = 1_000;
const MB: u64 = 1_000_000;

/// A base image of the shared pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Base {
    /// `alpine`: one ~3.6 MB layer.
    Alpine,
    /// `debian:bookworm-slim`: one ~29 MB layer.
    DebianSlim,
    /// `ubuntu`: one ~30 MB layer.
    Ubuntu,
    /// `gcr.io/distroless/static`: three small layers, ~1.8 MB.
    DistrolessStatic,
    /// `gcr.io/distroless/base`: distroless-static plus glibc and OpenSSL, ~18 MB.
    DistrolessGlibc,
    /// `node:*-slim`: debian-slim plus four layers (~52 MB).
    Node,
    /// `python:*-slim`: debian-slim plus three layers (~63 MB).
    Python,
    /// `golang`: debian-slim plus four layers (~245 MB).
    Golang,
}

/// What the pool knows about a base.
struct BaseDef {
    name: &'static str,
    parent: Option<Base>,
    /// Nominal amd64 sizes of the base's own layers.
    layers: &'static [u64],
    /// Size range of an application's dependency layer on this base.
    deps: (u64, u64),
}

const ALPINE: BaseDef = BaseDef {
    name: "alpine",
    parent: None,
    layers: &[3_620 * KB],
    deps: (2 * MB, 18 * MB),
};
const DEBIAN_SLIM: BaseDef = BaseDef {
    name: "debian-slim",
    parent: None,
    layers: &[29_150 * KB],
    deps: (8 * MB, 70 * MB),
};
const UBUNTU: BaseDef = BaseDef {
    name: "ubuntu",
    parent: None,
    layers: &[29_750 * KB],
    deps: (20 * MB, 120 * MB),
};
const DISTROLESS_STATIC: BaseDef = BaseDef {
    name: "distroless-static",
    parent: None,
    layers: &[1_050 * KB, 420 * KB, 330 * KB],
    deps: (300 * KB, 12 * MB),
};
const DISTROLESS_BASE: BaseDef = BaseDef {
    name: "distroless-base",
    parent: Some(Base::DistrolessStatic),
    layers: &[8_200 * KB, 7_400 * KB],
    deps: (300 * KB, 12 * MB),
};
const NODE: BaseDef = BaseDef {
    name: "node",
    parent: Some(Base::DebianSlim),
    layers: &[3_300 * KB, 47_600 * KB, 1_300 * KB, 450],
    deps: (40 * MB, 250 * MB),
};
const PYTHON: BaseDef = BaseDef {
    name: "python",
    parent: Some(Base::DebianSlim),
    layers: &[6_100 * KB, 41_300 * KB, 15_700 * KB],
    deps: (30 * MB, 300 * MB),
};
const GOLANG: BaseDef = BaseDef {
    name: "golang",
    parent: Some(Base::DebianSlim),
    layers: &[24_100 * KB, 64_200 * KB, 86_900 * KB, 69_300 * KB],
    deps: (40 * MB, 220 * MB),
};

impl Base {
    fn def(self) -> &'static BaseDef {
        match self {
            Base::Alpine => &ALPINE,
            Base::DebianSlim => &DEBIAN_SLIM,
            Base::Ubuntu => &UBUNTU,
            Base::DistrolessStatic => &DISTROLESS_STATIC,
            Base::DistrolessGlibc => &DISTROLESS_BASE,
            Base::Node => &NODE,
            Base::Python => &PYTHON,
            Base::Golang => &GOLANG,
        }
    }

    /// Size range of an application's dependency layer on this base.
    pub(crate) fn deps_range(self) -> (u64, u64) {
        self.def().deps
    }

    /// The layers (digest, size) of this base on `platform`, bottom first: the parent's layers,
    /// then the base's own.
    pub(crate) fn layers(self, platform: &PlatformSpec) -> Vec<(String, u64)> {
        let mut out = match self.def().parent {
            Some(parent) => parent.layers(platform),
            None => Vec::new(),
        };
        let def = self.def();
        let platform = platform_key(platform);
        for (i, nominal) in def.layers.iter().enumerate() {
            let key = format!("base/{}/{platform}/{i}", def.name);
            out.push(derived_blob(&key, *nominal, &platform));
        }
        out
    }
}

/// `os/arch[/variant]`.
pub(crate) fn platform_key(platform: &PlatformSpec) -> String {
    match &platform.variant {
        Some(v) => format!("{}/{}/{v}", platform.os, platform.architecture),
        None => format!("{}/{}", platform.os, platform.architecture),
    }
}

/// Per-mille size of a layer on an architecture relative to amd64.
fn arch_permille(platform_key: &str) -> u64 {
    let arch = platform_key.split('/').nth(1).unwrap_or("amd64");
    match arch {
        "arm64" => 960,
        "arm" => 880,
        "s390x" => 1_050,
        "ppc64le" => 1_070,
        "386" => 970,
        _ => 1_000,
    }
}

/// A blob whose digest and size derive from `key`: the digest is the sha256 of the key, the size
/// `nominal` scaled for the architecture with a ±7 % wobble read from the hash.
fn derived_blob(key: &str, nominal: u64, platform_key: &str) -> (String, u64) {
    let hash = Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    let wobble = 930 + u64::from_le_bytes(first) % 141;
    let size = (nominal * arch_permille(platform_key) / 1_000 * wobble / 1_000).max(1);
    (format!("sha256:{}", hex::encode(hash)), size)
}

/// The builds of one repository, visited oldest first: the dependency layers they share and the
/// app layers they do not (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct BuildLine {
    key: String,
    /// Size range of the application layer.
    app: (u64, u64),
    /// Which dependency set the current build uses (increments on every change).
    deps_version: u64,
    /// Nominal sizes of the current dependency layers.
    deps: Vec<u64>,
    /// Builds left before the dependencies change.
    left: u64,
    /// The base the current dependencies were built for.
    base: Option<Base>,
    /// The current dependency layers per platform, derived on first use.
    derived: Vec<(PlatformSpec, Vec<(String, u64)>)>,
}

impl BuildLine {
    /// A line whose dependency digests derive from `key` (unique per repository) and whose
    /// application layer is `app.0..=app.1` bytes.
    pub(crate) fn new(key: impl Into<String>, app: (u64, u64)) -> Self {
        Self {
            key: key.into(),
            app,
            deps_version: 0,
            deps: Vec::new(),
            left: 0,
            base: None,
            derived: Vec::new(),
        }
    }

    /// Starts the next build (on `base`): keeps the dependency layers or, when their run is over
    /// or the repository moved to another base, draws new ones.
    pub(crate) fn next_build(&mut self, rng: &mut SplitMix64, base: Base) {
        if self.left == 0 || self.base != Some(base) {
            let (lo, hi) = base.deps_range();
            let count = rng.range(1, 2);
            self.deps = (0..count)
                .map(|i| {
                    if i == 0 {
                        rng.log_uniform(lo, hi)
                    } else {
                        rng.log_uniform(lo / 10 + 1, hi / 10 + 1)
                    }
                })
                .collect();
            self.deps_version += 1;
            self.left = rng.range(3, 8);
            self.base = Some(base);
            self.derived.clear();
        }
        self.left = self.left.saturating_sub(1);
    }

    /// The current dependency layers (digest, size) on `platform`.
    pub(crate) fn deps_layers(&mut self, platform: &PlatformSpec) -> Vec<(String, u64)> {
        if let Some((_, layers)) = self.derived.iter().find(|(p, _)| p == platform) {
            return layers.clone();
        }
        let key = platform_key(platform);
        let layers: Vec<(String, u64)> = self
            .deps
            .iter()
            .enumerate()
            .map(|(i, nominal)| {
                let name = format!("deps/{}/{}/{key}/{i}", self.key, self.deps_version);
                derived_blob(&name, *nominal, &key)
            })
            .collect();
        self.derived.push((platform.clone(), layers.clone()));
        layers
    }

    /// 1–2 layers unique to one build: the application and sometimes a small extra layer.
    pub(crate) fn app_layers(&self, rng: &mut SplitMix64) -> Vec<(String, u64)> {
        let mut out = vec![(rng.digest(), rng.log_uniform(self.app.0, self.app.1))];
        if rng.chance(0.4) {
            out.push((rng.digest(), rng.range(4 * KB, 900 * KB)));
        }
        out
    }
}

/// Turns (digest, size) pairs into blobs of one media type.
pub(crate) fn blobs(layers: Vec<(String, u64)>, media_type: &str) -> Vec<BlobSpec> {
    layers
        .into_iter()
        .map(|(digest, size)| BlobSpec {
            digest,
            size,
            media_type: media_type.to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::generate::linux;

    #[test]
    fn the_pool_is_a_pure_function_of_base_and_platform() {
        let amd64 = linux("amd64", None);
        let arm64 = linux("arm64", None);
        let a = Base::Node.layers(&amd64);
        assert_eq!(a, Base::Node.layers(&amd64));
        assert_eq!(a.len(), 5, "debian-slim and node's four layers");
        assert_eq!(a[0], Base::DebianSlim.layers(&amd64)[0]);
        assert_eq!(a[0], Base::Python.layers(&amd64)[0]);
        let other_arch = Base::Node.layers(&arm64);
        assert!(a.iter().all(|l| !other_arch.contains(l)));
        let alpine: u64 = Base::Alpine.layers(&amd64).iter().map(|l| l.1).sum();
        assert!((3_300 * KB..=3_900 * KB).contains(&alpine), "{alpine}");
        let golang: u64 = Base::Golang.layers(&amd64).iter().map(|l| l.1).sum();
        assert!((240 * MB..=290 * MB).contains(&golang), "{golang}");
    }

    #[test]
    fn dependencies_hold_for_a_few_builds_and_change_with_another_base() {
        let mut rng = SplitMix64::new(3);
        let mut line = BuildLine::new("t", (MB, 2 * MB));
        let amd64 = linux("amd64", None);
        let mut seen = Vec::new();
        for _ in 0..40 {
            line.next_build(&mut rng, Base::Alpine);
            seen.push(line.deps_layers(&amd64));
        }
        let changes = seen.windows(2).filter(|w| w[0] != w[1]).count();
        assert!((4..=13).contains(&changes), "{changes}");
        let before = line.deps_layers(&amd64);
        line.next_build(&mut rng, Base::DistrolessStatic);
        assert_ne!(
            line.deps_layers(&amd64),
            before,
            "another base, other dependencies"
        );
        assert_ne!(
            line.deps_layers(&linux("arm64", None)),
            line.deps_layers(&amd64)
        );
    }
}
