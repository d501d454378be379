//! Image manifests as GitLab's GraphQL `containerRepository.manifest(reference:)` returns
//! them: the raw JSON of an OCI or Docker v2 image manifest, or of an OCI index / Docker
//! manifest list whose children are manifests of their own.
//!
//! Parsing is typed (serde structs, never a walk over untyped JSON) and strict where sizes
//! are concerned: every descriptor needs a digest of the form `algorithm:encoded` and a
//! non-negative integer size, since storage figures are computed from them. The kind is
//! decided by shape, not by `mediaType` alone (Docker's manifest list and OCI's index both
//! carry `manifests`; images carry `config` and `layers`), because a manifest may omit its
//! `mediaType`. Docker's schema 1 has no layer sizes and is reported as such. A manifest is
//! immutable by its digest, so a parsed one can be cached forever and shared.

use serde::{Deserialize, Serialize};

/// Longest raw manifest accepted (the registry's own limit is 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// A content descriptor: a blob or child manifest by digest, with its size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Descriptor {
    pub digest: String,
    pub size: u64,
    pub media_type: Option<String>,
    /// For an index's children.
    pub platform: Option<Platform>,
}

/// The platform of an index child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/arm64/v8`.
    pub fn label(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// A parsed manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Manifest {
    /// A single-platform image: its config blob and its layers, bottom first.
    Image {
        media_type: Option<String>,
        config: Descriptor,
        layers: Vec<Descriptor>,
    },
    /// A multi-platform index: child manifests (usually one per platform; attestation
    /// manifests of BuildKit appear as children with platform `unknown/unknown`).
    Index {
        media_type: Option<String>,
        manifests: Vec<Descriptor>,
    },
}

/// Why a raw manifest could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is larger than {MAX_MANIFEST_BYTES} bytes")]
    TooLarge,
    #[error("the manifest is not valid JSON of a known shape: {0}")]
    Malformed(String),
    #[error("a Docker schema 1 manifest does not record layer sizes")]
    SchemaOne,
    #[error("the manifest has neither layers nor child manifests")]
    Unrecognised,
    #[error("the manifest names an invalid digest")]
    BadDigest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireManifest {
    schema_version: Option<u32>,
    media_type: Option<String>,
    config: Option<WireDescriptor>,
    layers: Option<Vec<WireDescriptor>>,
    manifests: Option<Vec<WireDescriptor>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireDescriptor {
    digest: String,
    size: u64,
    media_type: Option<String>,
    platform: Option<WirePlatform>,
}

#[derive(Deserialize)]
struct WirePlatform {
    os: String,
    architecture: String,
    variant: Option<String>,
}

/// `algorithm:encoded` as the OCI spec defines it (`sha256:` plus 64 lower-case hex, or any
/// registered-looking algorithm with a base64url-ish encoding).
pub fn is_digest(value: &str) -> bool {
    let Some((algorithm, encoded)) = value.split_once(':') else {
        return false;
    };
    let algorithm_ok = !algorithm.is_empty()
        && algorithm
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
    let encoded_ok = !encoded.is_empty()
        && encoded.len() <= 256
        && encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b));
    match algorithm {
        "sha256" => {
            encoded.len() == 64
                && encoded
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }
        _ => algorithm_ok && encoded_ok,
    }
}

impl WireDescriptor {
    fn typed(self) -> Result<Descriptor, ManifestError> {
        if !is_digest(&self.digest) {
            return Err(ManifestError::BadDigest);
        }
        Ok(Descriptor {
            digest: self.digest,
            size: self.size,
            media_type: self.media_type,
            platform: self.platform.map(|p| Platform {
                os: p.os,
                architecture: p.architecture,
                variant: p.variant,
            }),
        })
    }
}

impl Manifest {
    /// Parses a raw manifest.
    pub fn parse(raw: &str) -> Result<Manifest, ManifestError> {
        if raw.len() > MAX_MANIFEST_BYTES {
            return Err(ManifestError::TooLarge);
        }
        let wire: WireManifest = serde_json::from_str(raw).map_err(|e| {
            // serde's message names the field and position, never the document's content.
            ManifestError::Malformed(e.to_string())
        })?;
        if wire.schema_version == Some(1) {
            return Err(ManifestError::SchemaOne);
        }
        match (wire.manifests, wire.config, wire.layers) {
            (Some(children), _, _) => Ok(Manifest::Index {
                media_type: wire.media_type,
                manifests: children
                    .into_iter()
                    .map(WireDescriptor::typed)
                    .collect::<Result<_, _>>()?,
            }),
            (None, Some(config), Some(layers)) => Ok(Manifest::Image {
                media_type: wire.media_type,
                config: config.typed()?,
                layers: layers
                    .into_iter()
                    .map(WireDescriptor::typed)
                    .collect::<Result<_, _>>()?,
            }),
            _ => Err(ManifestError::Unrecognised),
        }
    }

    /// Child manifest digests of an index (none for an image).
    pub fn children(&self) -> &[Descriptor] {
        match self {
            Manifest::Index { manifests, .. } => manifests,
            Manifest::Image { .. } => &[],
        }
    }

    pub fn media_type(&self) -> Option<&str> {
        match self {
            Manifest::Image { media_type, .. } | Manifest::Index { media_type, .. } => {
                media_type.as_deref()
            }
        }
    }

    /// Bytes this value holds on the heap, roughly (for caches bounded in bytes).
    pub fn weight(&self) -> usize {
        fn d(d: &Descriptor) -> usize {
            std::mem::size_of::<Descriptor>()
                + d.digest.len()
                + d.media_type.as_ref().map_or(0, String::len)
                + d.platform.as_ref().map_or(0, |p| {
                    p.os.len() + p.architecture.len() + p.variant.as_ref().map_or(0, String::len)
                })
        }
        std::mem::size_of::<Manifest>()
            + match self {
                Manifest::Image {
                    media_type,
                    config,
                    layers,
                } => {
                    media_type.as_ref().map_or(0, String::len)
                        + d(config)
                        + layers.iter().map(d).sum::<usize>()
                }
                Manifest::Index {
                    media_type,
                    manifests,
                } => {
                    media_type.as_ref().map_or(0, String::len)
                        + manifests.iter().map(d).sum::<usize>()
                }
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn images_and_indexes_are_told_apart_by_shape() {
        let image = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{{"mediaType":"application/vnd.oci.image.config.v1+json",
            "digest":"{D1}","size":7023}},
            "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",
            "digest":"{D2}","size":32654}}],
            "annotations":{{"x":"y"}}}}"#
        );
        let Manifest::Image { config, layers, .. } = Manifest::parse(&image).unwrap() else {
            panic!("an image")
        };
        assert_eq!(config.size, 7023);
        assert_eq!(layers[0].digest, D2);
        // A Docker manifest list without mediaType is still an index.
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"digest":"{D1}","size":528,
            "platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}}]}}"#
        );
        let parsed = Manifest::parse(&index).unwrap();
        assert_eq!(
            parsed.children()[0].platform.as_ref().unwrap().label(),
            "linux/arm64/v8"
        );
    }

    #[test]
    fn what_cannot_give_sizes_is_refused_with_a_reason() {
        assert_eq!(
            Manifest::parse(r#"{"schemaVersion":1,"fsLayers":[]}"#),
            Err(ManifestError::SchemaOne)
        );
        assert_eq!(
            Manifest::parse(r#"{"schemaVersion":2}"#),
            Err(ManifestError::Unrecognised)
        );
        let negative = format!(r#"{{"config":{{"digest":"{D1}","size":-1}},"layers":[]}}"#);
        assert!(matches!(
            Manifest::parse(&negative),
            Err(ManifestError::Malformed(_))
        ));
        let bad = r#"{"config":{"digest":"sha256:xyz","size":1},"layers":[]}"#;
        assert_eq!(Manifest::parse(bad), Err(ManifestError::BadDigest));
        assert!(matches!(
            Manifest::parse("not json"),
            Err(ManifestError::Malformed(_))
        ));
    }

    #[test]
    fn digests_follow_the_oci_grammar() {
        assert!(is_digest(D1));
        assert!(is_digest("sha512:abcDEF0123"));
        assert!(!is_digest("sha256:ABC"));
        assert!(!is_digest("sha256"));
        assert!(!is_digest(":abc"));
        assert!(!is_digest("sha256:../../etc"));
    }
}
