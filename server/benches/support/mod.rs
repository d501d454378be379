//! What the benchmarks share: the release `registry-dash` binary run as a process of its
//! own, so that its resident memory is measured apart from the load generator's.
#![allow(clippy::unwrap_used, dead_code)]

pub mod traffic;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_registry-dash");

/// A running `registry-dash`, killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The embedded double's URL in demo mode.
    pub double: Option<String>,
}

impl ServerProcess {
    /// Starts the binary with `args` and `env` (plus a free loopback port and quiet logs)
    /// and waits until it serves.
    pub fn start(args: &[&str], env: &[(&str, String)]) -> ServerProcess {
        let mut child = Command::new(BIN)
            .args(args)
            .env("REGISTRY_DASH_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let demo = args.contains(&"--demo");
        let (mut base, mut double) = (None, None);
        while base.is_none() || (demo && double.is_none()) {
            let line = rx.recv_timeout(Duration::from_secs(60)).unwrap();
            if let Some(url) = line.strip_prefix("registry-dash listening on ") {
                base = Some(url.to_string());
            }
            if let Some(url) = line.strip_prefix("gitlab double at ") {
                double = Some(url.to_string());
            }
        }
        ServerProcess {
            child,
            base: base.unwrap(),
            double,
        }
    }

    /// Peak and current resident memory of the process, in MiB (`VmHWM`, `VmRSS`).
    pub fn rss(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmHWM:"), field("VmRSS:"))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A command-line value (`--name value`), or `default`.
pub fn arg(name: &str, default: &str) -> String {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// A numeric command-line value (`--name 20`), if given and a number.
pub fn number(name: &str) -> Option<u64> {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// A field of this process's `/proc/self/status` in KiB (`VmRSS:`, `VmHWM:`); 0 if absent.
pub fn own_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
