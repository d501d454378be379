//! Splits the frontend's wasm at its `#[lazy]` split points (see `app::routes`), as
//! `scripts/build-site.sh` runs it between cargo and wasm-bindgen.
//!
//! `bundle-split <input.wasm> <main-out.wasm> <chunk-dir>`
//!
//! - Input: the `frontend` cdylib linked with `--emit-relocs`, so every call and every data
//!   reference can be followed.
//! - The splitter (`wasm_split_cli_support`) walks the call graph from each split point and
//!   from the main module's roots. A function reachable from the main module stays there;
//!   the others go into one chunk per set of split points that reach them. Each split point
//!   then loads its own chunk and the shared chunks it needs, in parallel.
//! - Output: the main module (for wasm-bindgen, which must keep lld's exports), the chunks
//!   and their JS loader in `<chunk-dir>`, and `__wasm_split_manifest.json`: split point →
//!   chunk file stems. The server reads that manifest to preload the chunks
//!   of the page it rendered.
//!
//! The loader's name is the one Leptos 0.8 links when files are not hashed by cargo-leptos
//! (`__wasm_split.` + 22 `_` + `.js`); the build hashes the whole directory instead.

use std::path::Path;
use std::process::ExitCode;

/// The loader's file name (the one Leptos' split functions import; the server preloads it).
const LOADER: &str = "__wasm_split.______________________.js";
/// The manifest the server reads from the bundle directory (`server::http::site`).
const MANIFEST: &str = "__wasm_split_manifest.json";
/// The JS glue wasm-bindgen writes next to the main module; the loader imports its `initSync`.
const MAIN_MODULE: &str = "./frontend.js";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, main_out, chunk_dir] = args.as_slice() else {
        eprintln!("usage: bundle-split <input.wasm> <main-out.wasm> <chunk-dir>");
        return ExitCode::from(2);
    };
    match split(Path::new(input), Path::new(main_out), Path::new(chunk_dir)) {
        Ok(chunks) => {
            println!("bundle-split: {chunks} chunks in {chunk_dir}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bundle-split: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Splits `input`, writes everything, and answers how many chunks were written.
fn split(input: &Path, main_out: &Path, chunk_dir: &Path) -> Result<usize, String> {
    let wasm = std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let link_name = format!("./{LOADER}");
    let mut options = wasm_split_cli_support::Options::new(&wasm);
    options.output_dir = chunk_dir;
    options.main_out_path = main_out;
    options.main_module = MAIN_MODULE;
    options.link_name = &link_name;
    let split = wasm_split_cli_support::transform(options)
        .map_err(|e| format!("cannot split {}: {e:#}", input.display()))?;
    if split.prefetch_map.is_empty() {
        return Err(format!(
            "{} has no split point: was it linked with --emit-relocs and built with \
             #[lazy] routes?",
            input.display()
        ));
    }
    // Sorted, so the same input gives byte-identical output (the build hashes it).
    let manifest: std::collections::BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    let path = chunk_dir.join(MANIFEST);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(split.split_modules.len())
}
