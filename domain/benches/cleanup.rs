// Benchmark (prints numbers; asserts nothing): GitLab's cleanup decision over 100,000 tags,
// in both modes, with a typical policy (delete `.*`, keep semver releases, keep 10, older
// than 30 days). Run: `cargo bench -p domain --bench cleanup`.

use domain::cleanup::{Cadence, CleanupPolicy, Mode, OlderThan};
use domain::tags::Tag;
use std::time::Instant;

const NOW: i64 = 1_800_000_000;

fn tags(n: usize) -> Vec<Tag> {
    // Deterministic mix of release, branch and rc tags with spread-out timestamps.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let r = next();
            let name = match r % 4 {
                0 => format!("v{}.{}.{}", i / 1000, (i / 10) % 100, i % 10),
                1 => format!("main-{:07x}", r >> 20),
                2 => format!("v{}.{}.0-rc.{}", i / 1000, i % 100, r % 9),
                _ => format!("mr-{}-{:07x}", i, r >> 24),
            };
            Tag {
                name,
                digest: Some(format!("sha256:{:064x}", r)),
                revision: None,
                created_at: (r % 50 != 0).then(|| NOW - (r % (400 * 86_400)) as i64),
                published_at: None,
                total_size: Some(r % 500_000_000),
                media_type: None,
                referrers: vec![],
                protection: None,
            }
        })
        .collect()
}

fn main() {
    let tags = tags(100_000);
    let policy = CleanupPolicy {
        enabled: true,
        cadence: Cadence::Daily,
        keep_n: Some(10),
        older_than: Some(OlderThan::Days30),
        name_regex: Some(".*".into()),
        name_regex_keep: Some(r"v\d+\.\d+\.\d+".into()),
    };
    println!("cleanup policy evaluation, {} tags", tags.len());
    // The policy page holds each repository's tags in name order; the engine then skips its
    // own sort in metadata-database mode.
    let mut sorted = tags.clone();
    sorted.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    for (label, mode, input) in [
        ("legacy", Mode::Legacy, &tags),
        ("metadata database, unsorted", Mode::MetadataDatabase, &tags),
        (
            "metadata database, name order",
            Mode::MetadataDatabase,
            &sorted,
        ),
    ] {
        let mut runs = Vec::new();
        let mut deleted = 0;
        for _ in 0..15 {
            let started = Instant::now();
            let compiled = policy.compile().expect("valid policy");
            let decisions = compiled.evaluate(input, mode, NOW);
            runs.push(started.elapsed());
            deleted = decisions.iter().filter(|d| d.reason.deletes()).count();
        }
        runs.sort();
        println!(
            "{label}: median {:.1} ms, min {:.1} ms, max {:.1} ms ({deleted} tags deleted)",
            runs[runs.len() / 2].as_secs_f64() * 1e3,
            runs[0].as_secs_f64() * 1e3,
            runs[runs.len() - 1].as_secs_f64() * 1e3,
        );
    }
}
