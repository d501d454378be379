// Benchmark (prints numbers; asserts nothing): deduplicated storage arithmetic for a
// repository of 10,000 tags whose images hold 20 layers each (a shared base of 6 layers,
// dependency layers shared by runs of 25 builds, the rest per build), on 8,000 distinct
// images. Target: a deletion estimate (`Layers::freed`) within 20 ms natively.
// Run: `cargo bench -p domain --bench storage`.

use domain::manifest::{Descriptor, Manifest};
use domain::storage::{Layers, LARGEST_SHOWN};
use domain::tags::Tag;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const TAGS: usize = 10_000;
const IMAGES: u64 = 8_000;

fn digest(kind: u64, n: u64) -> String {
    format!("sha256:{kind:08x}{n:056x}")
}

fn blob(kind: u64, n: u64, size: u64) -> Descriptor {
    Descriptor {
        digest: digest(kind, n),
        size,
        media_type: None,
        platform: None,
    }
}

fn main() {
    let mut store: HashMap<String, Arc<Manifest>> = HashMap::new();
    for i in 0..IMAGES {
        let mut layers: Vec<Descriptor> = (0..6).map(|l| blob(1, l, 10_000_000 + l)).collect();
        layers.extend((0..8).map(|l| blob(2, (i / 25) * 8 + l, 2_000_000 + l)));
        layers.extend((0..6).map(|l| blob(3, i * 6 + l, 300_000 + l)));
        let manifest = Manifest::Image {
            media_type: None,
            config: blob(4, i, 7_000),
            layers,
        };
        store.insert(digest(5, i), Arc::new(manifest));
    }
    let tags: Vec<Tag> = (0..TAGS as u64)
        .map(|t| Tag {
            name: format!("build-{t}"),
            digest: Some(digest(5, t % IMAGES)),
            total_size: Some(80_000_000),
            ..Tag::default()
        })
        .collect();
    let time = |label: &str, runs: u32, f: &mut dyn FnMut()| {
        let mut samples: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                f();
                started.elapsed()
            })
            .collect();
        samples.sort();
        println!(
            "{label:<48} median {:>8.2} ms   max {:>8.2} ms   ({runs} runs)",
            samples[samples.len() / 2].as_secs_f64() * 1e3,
            samples[samples.len() - 1].as_secs_f64() * 1e3
        );
    };
    println!("storage arithmetic: {TAGS} tags, {IMAGES} images x 20 layers");
    let mut layers = Layers::default();
    time("Layers::build (intern every blob)", 5, &mut || {
        layers = Layers::build(tags.iter().filter_map(|t| t.digest.as_deref()), |d| {
            store.get(d).cloned()
        });
    });
    let mut freed = None;
    time("freed: delete every other tag", 21, &mut || {
        freed = Some(layers.freed(&tags, |t| t.name.ends_with(['0', '2', '4', '6', '8'])));
    });
    if let Some(f) = &freed {
        println!(
            "  frees {} bytes of a naive {} ({} images untagged)",
            f.bytes, f.naive_bytes, f.images
        );
    }
    time("freed: delete 20 tags", 21, &mut || {
        freed = Some(layers.freed(&tags, |t| t.name.len() == 7 && t.name.as_bytes()[6] < b'2'));
    });
    time("summary with the 10 largest layers", 21, &mut || {
        std::hint::black_box(layers.summary(&tags, LARGEST_SHOWN));
    });
}
