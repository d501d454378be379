//! The built browser bundle under `<site_root>/pkg`, as `scripts/build-site.sh` leaves it.
//!
//! The build splits the bundle by page (`app::routes`) and puts all of it (the JS glue, the
//! main wasm module, the chunks, their loader, the stylesheet) into one directory named after
//! its content hash, `pkg/<hash>/`, with brotli and gzip copies next to each file. It records
//! the directory in `pkg/site.json`: `{"bundle": "<hash>"}`. The server reads that file once
//! at start-up:
//! - Leptos gets `pkg/<hash>` as its package directory, so the pages link the hashed files
//!   (`frontend.js`, `frontend_bg.wasm`, `frontend.css`), and its hydration scripts read the
//!   split manifest there to preload the chunks of the page being rendered;
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

/// Where the bundle is, read from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pkg_dir: PathBuf,
    /// The content hash naming the bundle's directory; `None` without a manifest.
    bundle: Option<String>,
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
        Ok(Site {
            pkg_dir,
            bundle: Some(hash),
        })
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
