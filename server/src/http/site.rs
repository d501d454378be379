//! The built browser bundle under `<site_root>/pkg`, as `scripts/build-site.sh` leaves it.
//!
//! The build names the JS glue, the wasm and the stylesheet after one content hash
//! (`frontend-<hash>.js`, `frontend-<hash>_bg.wasm`, `frontend-<hash>.css`), writes brotli
//! and gzip copies next to them, and records the name in `pkg/site.json`:
//! `{"output_name": "frontend-<hash>"}`. The server reads that file once at start-up:
//! - the pages link those names (Leptos' hydration scripts take the output name; the
//!   stylesheet is `<output_name>.css`);
//! - files carrying the hash never change, so they are served with a year of `immutable`
//!   caching; everything else under `/pkg` is revalidated (`no-cache`);
//! - `/pkg` serves the precompressed copy the browser accepts (brotli, then gzip), so no
//!   visitor costs the server a compression of megabytes.
//!
//! Without `site.json` (a checkout whose bundle was never built) the unhashed names are
//! used and readiness reports the bundle missing.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The manifest's file name inside `pkg/`.
pub const MANIFEST: &str = "site.json";
/// The bundle's name when no manifest says otherwise (the frontend package's name).
const UNHASHED: &str = "frontend";

/// The bundle's names, read from the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pkg_dir: PathBuf,
    output_name: String,
    hashed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    output_name: String,
}

impl Site {
    /// Reads `<site_root>/pkg/site.json`. A missing manifest gives the unhashed names; an
    /// unreadable or malformed one is an error (a half-copied deployment should not start).
    pub fn load(site_root: &Path) -> anyhow::Result<Site> {
        let pkg_dir = site_root.join("pkg");
        let path = pkg_dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Site {
                    pkg_dir,
                    output_name: UNHASHED.into(),
                    hashed: false,
                })
            }
            Err(error) => anyhow::bail!("cannot read {}: {error}", path.display()),
        };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|error| {
            anyhow::anyhow!("{} is not a site manifest: {error}", path.display())
        })?;
        let name = manifest.output_name;
        let valid = name
            .strip_prefix("frontend-")
            .is_some_and(|hash| !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()));
        if !valid {
            anyhow::bail!(
                "{}: output_name must be frontend-<hex hash>, not {name:?}",
                path.display()
            );
        }
        Ok(Site {
            pkg_dir,
            output_name: name,
            hashed: true,
        })
    }

    /// What Leptos calls the bundle: `<name>.js` and `<name>_bg.wasm` under `/pkg`.
    pub fn output_name(&self) -> &str {
        &self.output_name
    }

    /// The wasm file on disk (readiness checks it is there).
    pub fn wasm_file(&self) -> PathBuf {
        self.pkg_dir.join(format!("{}_bg.wasm", self.output_name))
    }

    /// The directory `/pkg` is served from.
    pub fn pkg_dir(&self) -> &Path {
        &self.pkg_dir
    }

    /// Whether a request path under `/pkg/` names a file of this build's hash, which can be
    /// cached for ever (its precompressed copies are the same file to the browser).
    pub fn is_immutable(&self, request_path: &str) -> bool {
        self.hashed
            && request_path
                .strip_prefix("/pkg/")
                .and_then(|file| file.strip_prefix(self.output_name.as_str()))
                .is_some_and(|rest| matches!(rest, ".js" | "_bg.wasm" | ".css"))
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
    fn a_manifest_names_the_bundle_and_only_its_files_are_immutable() {
        let (_dir, site) = site_with(Some(r#"{"output_name":"frontend-0123abcd"}"#));
        let site = site.expect("valid manifest");
        assert_eq!(site.output_name(), "frontend-0123abcd");
        assert!(site.wasm_file().ends_with("pkg/frontend-0123abcd_bg.wasm"));
        for path in [
            "/pkg/frontend-0123abcd.js",
            "/pkg/frontend-0123abcd_bg.wasm",
            "/pkg/frontend-0123abcd.css",
        ] {
            assert!(site.is_immutable(path), "{path}");
        }
        for path in [
            "/pkg/favicon.svg",
            "/pkg/site.json",
            "/pkg/frontend-0123abcd.json",
            "/pkg/frontend-0123ab.js",
            "/pkg/frontend.js",
            "/other/frontend-0123abcd.js",
        ] {
            assert!(!site.is_immutable(path), "{path}");
        }
    }

    #[test]
    fn without_a_manifest_the_unhashed_names_are_used_and_nothing_is_immutable() {
        let (_dir, site) = site_with(None);
        let site = site.expect("no manifest is fine");
        assert_eq!(site.output_name(), "frontend");
        assert!(!site.is_immutable("/pkg/frontend.js"));
    }

    #[test]
    fn a_malformed_manifest_stops_the_start_with_its_path() {
        for text in [
            "not json",
            r#"{"output_name":"../../etc/passwd"}"#,
            r#"{"output_name":"frontend-"}"#,
            r#"{"output_name":"frontend-12","extra":1}"#,
        ] {
            let (_dir, site) = site_with(Some(text));
            let error = site.expect_err(text).to_string();
            assert!(error.contains("site.json"), "{error}");
        }
    }
}
