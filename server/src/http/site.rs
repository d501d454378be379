//! The built browser bundle under `<site_root>/pkg`, as `scripts/build-site.sh` leaves it.
//!
//! The build splits the bundle by page (`app::routes`) and puts all of it (the JS glue, the
//! main wasm module, the chunks, their loader, the stylesheet) into one directory named after
//! its content hash, `pkg/<hash>/`, with brotli and gzip copies next to each file. It records
//! the directory in `pkg/site.json`: `{"bundle": "<hash>"}`. The server reads that file once
//! at start-up:
//! - Leptos gets `pkg/<hash>` as its package directory, so the pages link the hashed files
//!   (`frontend.js`, `frontend_bg.wasm`, `frontend.css`);
//! - the split manifest there (`__wasm_split_manifest.json`: each split function's chunks)
//!   becomes [`app::split::PageChunks`], so a page's head preloads the chunks its group needs;
//! - files under the hashed directory never change, so they are served with a year of
//!   `immutable` caching; everything else under `/pkg` is revalidated (`no-cache`). A page
//!   and every chunk it loads later come from one build, whatever is deployed meanwhile;
//! - `/pkg` serves the precompressed copy the browser accepts (brotli, then gzip), so no
//!   visitor costs the server a compression of megabytes.
//!
//! Without `site.json` (a checkout whose bundle was never built) the files are looked for
//! directly under `pkg/` and readiness reports the bundle missing.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The manifest's file name inside `pkg/`.
pub const MANIFEST: &str = "site.json";
/// What the bundle's files are called inside its directory (the frontend package's name).
pub const OUTPUT_NAME: &str = "frontend";
/// The splitter's manifest inside the bundle directory: split function → chunk modules.
pub const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";
/// The chunk loader's JS module inside the bundle directory (the splitter's fixed name).
pub const SPLIT_LOADER: &str = "__wasm_split.______________________.js";
/// Bounds on a split manifest, so a damaged one cannot make every page's head huge.
const MAX_SPLIT_GROUPS: usize = 64;
const MAX_CHUNKS_PER_GROUP: usize = 256;

/// Where the bundle is, read from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pkg_dir: PathBuf,
    /// The content hash naming the bundle's directory; `None` without a manifest.
    bundle: Option<String>,
    /// Split function → its chunk modules (file names without `.wasm`); empty for an
    /// unsplit build.
    chunks: std::collections::BTreeMap<String, Vec<String>>,
    /// Whether the bundle directory has the chunk loader's JS module.
    has_loader: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    bundle: String,
}

impl Site {
    /// Reads `<site_root>/pkg/site.json`. A missing manifest gives the unhashed layout; an
    /// unreadable or malformed one is an error (a half-copied deployment should not start).
    pub fn load(site_root: &Path) -> anyhow::Result<Site> {
        let pkg_dir = site_root.join("pkg");
        let path = pkg_dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Site {
                    pkg_dir,
                    bundle: None,
                    chunks: Default::default(),
                    has_loader: false,
                })
            }
            Err(error) => anyhow::bail!("cannot read {}: {error}", path.display()),
        };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|error| {
            anyhow::anyhow!("{} is not a site manifest: {error}", path.display())
        })?;
        let hash = manifest.bundle;
        if hash.len() < 8 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            anyhow::bail!(
                "{}: bundle must be the bundle directory's hex content hash, not {hash:?}",
                path.display()
            );
        }
        let bundle_dir = pkg_dir.join(&hash);
        let chunks = read_split_manifest(&bundle_dir.join(SPLIT_MANIFEST))?;
        let has_loader = bundle_dir.join(SPLIT_LOADER).is_file();
        Ok(Site {
            pkg_dir,
            bundle: Some(hash),
            chunks,
            has_loader,
        })
    }

    /// What each page group's head preloads: the chunk URLs under `/pkg/<hash>/`.
    pub fn page_chunks(&self) -> app::split::PageChunks {
        let Some(hash) = &self.bundle else {
            return app::split::PageChunks::default();
        };
        let groups = self
            .chunks
            .iter()
            .map(|(group, modules)| {
                let urls = modules
                    .iter()
                    .map(|m| format!("/pkg/{hash}/{m}.wasm"))
                    .collect();
                (group.clone(), urls)
            })
            .collect();
        let loader = self
            .has_loader
            .then(|| format!("/pkg/{hash}/{SPLIT_LOADER}"));
        app::split::PageChunks::new(groups, loader)
    }

    /// Leptos' package directory, relative to the site root: `pkg/<hash>` (or `pkg`).
    pub fn leptos_pkg_dir(&self) -> String {
        match &self.bundle {
            Some(hash) => format!("pkg/{hash}"),
            None => "pkg".into(),
        }
    }

    /// The main wasm module on disk (readiness checks it is there).
    pub fn wasm_file(&self) -> PathBuf {
        let dir = match &self.bundle {
            Some(hash) => self.pkg_dir.join(hash),
            None => self.pkg_dir.clone(),
        };
        dir.join(format!("{OUTPUT_NAME}_bg.wasm"))
    }

    /// The directory `/pkg` is served from.
    pub fn pkg_dir(&self) -> &Path {
        &self.pkg_dir
    }

    /// Whether a request path under `/pkg/` names a file of this build's directory, which
    /// can be cached for ever (its precompressed copies are the same file to the browser).
    pub fn is_immutable(&self, request_path: &str) -> bool {
        self.bundle.as_deref().is_some_and(|hash| {
            request_path
                .strip_prefix("/pkg/")
                .and_then(|rest| rest.strip_prefix(hash))
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|file| !file.is_empty())
        })
    }
}

/// Reads the splitter's manifest (`{"group": ["chunk_5", …, "split_group"], …}`). Missing:
/// an unsplit build, nothing to preload. Malformed, oversized or naming anything but plain
/// module names: an error, like a malformed `site.json`.
fn read_split_manifest(
    path: &Path,
) -> anyhow::Result<std::collections::BTreeMap<String, Vec<String>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(error) => anyhow::bail!("cannot read {}: {error}", path.display()),
    };
    let groups: std::collections::BTreeMap<String, Vec<String>> = serde_json::from_str(&text)
        .map_err(|error| anyhow::anyhow!("{} is not a split manifest: {error}", path.display()))?;
    let plain = |name: &str| {
        !name.is_empty()
            && name.len() <= 128
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    if groups.len() > MAX_SPLIT_GROUPS
        || groups
            .values()
            .any(|modules| modules.len() > MAX_CHUNKS_PER_GROUP)
    {
        anyhow::bail!(
            "{}: more split groups or chunks than a build makes",
            path.display()
        );
    }
    if let Some(bad) = groups
        .iter()
        .flat_map(|(g, m)| std::iter::once(g).chain(m))
        .find(|n| !plain(n))
    {
        anyhow::bail!("{}: {bad:?} is not a module name", path.display());
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_with(manifest: Option<&str>) -> (tempfile::TempDir, anyhow::Result<Site>) {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("pkg")).expect("pkg");
        if let Some(text) = manifest {
            std::fs::write(dir.path().join("pkg").join(MANIFEST), text).expect("manifest");
        }
        let site = Site::load(dir.path());
        (dir, site)
    }

    #[test]
    fn a_manifest_names_the_bundle_directory_and_only_its_files_are_immutable() {
        let (_dir, site) = site_with(Some(r#"{"bundle":"0123abcd"}"#));
        let site = site.expect("valid manifest");
        assert_eq!(site.leptos_pkg_dir(), "pkg/0123abcd");
        assert!(site.wasm_file().ends_with("pkg/0123abcd/frontend_bg.wasm"));
        for path in [
            "/pkg/0123abcd/frontend.js",
            "/pkg/0123abcd/frontend_bg.wasm",
            "/pkg/0123abcd/frontend.css",
            "/pkg/0123abcd/chunk_7.wasm",
        ] {
            assert!(site.is_immutable(path), "{path}");
        }
        for path in [
            "/pkg/favicon.svg",
            "/pkg/site.json",
            "/pkg/0123abcd",
            "/pkg/0123abcd/",
            "/pkg/0123abcdef/frontend.js",
            "/pkg/0123ab/frontend.js",
            "/pkg/frontend.js",
            "/other/0123abcd/frontend.js",
        ] {
            assert!(!site.is_immutable(path), "{path}");
        }
    }

    fn site_with_split(split: &str) -> anyhow::Result<Site> {
        let dir = tempfile::tempdir().expect("temp dir");
        let bundle = dir.path().join("pkg").join("0123abcd");
        std::fs::create_dir_all(&bundle).expect("bundle dir");
        std::fs::write(
            dir.path().join("pkg").join(MANIFEST),
            r#"{"bundle":"0123abcd"}"#,
        )
        .expect("manifest");
        std::fs::write(bundle.join(SPLIT_MANIFEST), split).expect("split manifest");
        Site::load(dir.path())
    }

    #[test]
    fn the_split_manifest_gives_each_group_its_chunk_urls() {
        let site = site_with_split(r#"{"browse_pages":["chunk_5","split_browse_pages"],"x":[]}"#)
            .expect("valid split manifest");
        let chunks = site.page_chunks();
        assert_eq!(
            chunks.urls("browse_pages"),
            [
                "/pkg/0123abcd/chunk_5.wasm",
                "/pkg/0123abcd/split_browse_pages.wasm"
            ]
        );
        assert!(chunks.urls("x").is_empty());
        assert!(chunks.urls("cleanup_pages").is_empty());
        // No split manifest: nothing to preload.
        let (_dir, site) = site_with(Some(r#"{"bundle":"0123abcd"}"#));
        assert!(site
            .expect("valid")
            .page_chunks()
            .urls("browse_pages")
            .is_empty());
    }

    #[test]
    fn a_malformed_split_manifest_stops_the_start_with_its_path() {
        let many = format!(r#"{{"g":[{}]}}"#, vec![r#""c""#; 300].join(","));
        for text in [
            "[]",
            r#"{"g":"chunk_5"}"#,
            r#"{"g":["../../etc/passwd"]}"#,
            r#"{"g":["chunk 5"]}"#,
            r#"{"g":[""]}"#,
            r#"{"a/b":["chunk_5"]}"#,
            &many,
        ] {
            let error = site_with_split(text).expect_err(text).to_string();
            assert!(error.contains(SPLIT_MANIFEST), "{error}");
        }
    }

    #[test]
    fn without_a_manifest_the_unhashed_layout_is_used_and_nothing_is_immutable() {
        let (_dir, site) = site_with(None);
        let site = site.expect("no manifest is fine");
        assert_eq!(site.leptos_pkg_dir(), "pkg");
        assert!(site.wasm_file().ends_with("pkg/frontend_bg.wasm"));
        assert!(!site.is_immutable("/pkg/frontend.js"));
    }

    #[test]
    fn a_malformed_manifest_stops_the_start_with_its_path() {
        for text in [
            "not json",
            r#"{"bundle":"../../etc"}"#,
            r#"{"bundle":""}"#,
            r#"{"bundle":"0123"}"#,
            r#"{"output_name":"frontend-0123abcd"}"#,
            r#"{"bundle":"0123abcd","extra":1}"#,
        ] {
            let (_dir, site) = site_with(Some(text));
            let error = site.expect_err(text).to_string();
            assert!(error.contains("site.json"), "{error}");
        }
    }
}
