//! The cleanup benchmark of `domain/benches/cleanup.rs`, unchanged, as a program of its own:
//! the domain crate's benches cannot target WebAssembly because its dev-dependencies
//! (proptest) do not build there. `scripts/bench-wasm.sh` builds this for `wasm32-wasip1`
//! with the browser bundle's size profile and runs it in Node's V8, the engine Chromium uses.

include!("../../domain/benches/cleanup.rs");
