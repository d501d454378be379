//! The `registry-dash` binary as operators run it: its command line, `check-config`, JSON
//! logs with request ids and audit events, and SIGTERM in the middle of a deletion.

use crate::common::Browser;
use gitlab_double::{Double, DoubleConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_registry-dash");

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn help_and_version_answer_without_serving() {
    let (code, out, _) = run(&["--help"], &[]);
    assert_eq!(code, 0);
    for needle in ["check-config", "--config <FILE>", "--demo"] {
        assert!(out.contains(needle), "{needle} in {out}");
    }
    let (code, out, _) = run(&["--version"], &[]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        format!("registry-dash {}", env!("CARGO_PKG_VERSION"))
    );
    let (code, _, err) = run(&["--no-such-flag"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--no-such-flag"), "{err}");
}

#[test]
fn without_a_gitlab_it_says_how_to_configure_one_or_run_the_demo() {
    let (code, _, err) = run(&[], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("GITLAB_URL") && err.contains("--demo"),
        "{err}"
    );
    let (code, _, err) = run(&["--demo"], &[("REGISTRY_DASH_LISTEN", "0.0.0.0:0")]);
    assert_eq!(code, 2);
    assert!(err.contains("loopback"), "{err}");
    let (code, _, err) = run(&["--config", "/nonexistent/registry-dash.toml"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/registry-dash.toml"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_tries_each_gitlab_without_serving() {
    let double = Double::spawn(DoubleConfig::default()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("rd-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, secret: &str| {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "[[instances]]\nname = \"corp\"\nbase_url = \"{}\"\nclient_id = \
                    \"registry-dash-demo\"\nclient_secret = \"{secret}\"\n",
                double.base_url
            ),
        )
        .unwrap();
        path
    };
    let good = write("good.toml", "registry-dash-demo-secret");
    let bad = write("bad.toml", "wrong-secret");
    let (code, out, _) = tokio::task::spawn_blocking(move || {
        run(&["check-config", "--config", good.to_str().unwrap()], &[])
    })
    .await
    .unwrap();
    assert!(out.contains("GitLab answers"), "{out}");
    assert!(out.contains("accepts the OAuth application"), "{out}");
    assert!(out.contains("/auth/callback/corp"), "{out}");
    // The site files are not built in this test's directory: that is a finding too.
    assert_eq!(code, i32::from(!out.contains("site files found")), "{out}");
    let (code, out, _) = tokio::task::spawn_blocking(move || {
        run(&["check-config", "--config", bad.to_str().unwrap()], &[])
    })
    .await
    .unwrap();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("invalid_client"), "{out}");
}

/// The binary in demo mode, with its stdout lines collected.
struct Process {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Process {
    fn start(env: &[(&str, &str)]) -> Process {
        let mut child = Command::new(BIN)
            .arg("--demo")
            .env_clear()
            .env("REGISTRY_DASH_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let collected = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("registry-dash listening on ") {
                    let _ = tx.send(url.to_string());
                }
                collected
                    .lock()
                    .expect("the lock is not poisoned")
                    .push(line);
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server says where it listens within 60 s");
        Process { child, base, lines }
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("the command ran");
        assert!(status.success());
    }

    fn logged(&self) -> Vec<Value> {
        self.lines
            .lock()
            .expect("the lock is not poisoned")
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_500_tag_deletion_finishes_it_reports_it_and_exits_0() {
    let mut process = Process::start(&[
        ("REGISTRY_DASH_DEMO_LATENCY_MS", "15"),
        ("REGISTRY_DASH_LOG_FORMAT", "json"),
    ]);
    let devon = Browser::at(&process.base);
    devon.sign_in("devon", "/i/demo").await;
    // Five hundred tags of the 10,000-tag repository, none protected.
    let mut names: Vec<String> = Vec::new();
    for _ in 0..300 {
        let response: Value = devon
            .server_fn(
                "matching_tags",
                json!({"instance": "demo", "repository_id": 3, "view": "q=main-&sort=name_asc"}),
            )
            .await
            .json()
            .await
            .unwrap();
        names = response[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect();
        if names.len() >= 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    names.truncate(500);
    assert_eq!(names.len(), 500);

    let devon = Arc::new(devon);
    let deleting = {
        let devon = devon.clone();
        let names = names.clone();
        tokio::spawn(async move {
            let response = devon
                .server_fn(
                    "delete_tags",
                    json!({"instance": "demo", "repository_id": 3, "names": names}),
                )
                .await;
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    process.terminate();
    // New connections are refused once the stop has begun.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        reqwest::get(format!("{}/healthz", process.base))
            .await
            .is_err(),
        "no new connections while stopping"
    );
    let (status, outcomes) = deleting.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let outcomes = outcomes.as_array().unwrap().clone();
    assert_eq!(outcomes.len(), 500);
    assert!(
        outcomes.iter().all(|o| o["deleted"] == true),
        "{outcomes:?}"
    );
    let exit = tokio::task::spawn_blocking(move || {
        let status = process.child.wait().unwrap();
        (status, process)
    })
    .await
    .unwrap();
    assert_eq!(exit.0.code(), Some(0));
    let process = exit.1;

    // The logs: one JSON object per line; the deletion's audit event names who, where,
    // what and GitLab's answer, under the request's id like its access log line.
    let logged = process.logged();
    let audit = logged
        .iter()
        .find(|l| l["target"] == "audit" && l["action"] == "delete_tags")
        .expect("an audit event for the deletion");
    assert_eq!(audit["user"], "devon");
    assert_eq!(audit["instance"], "demo");
    assert!(audit["target_object"].is_null());
    let what = audit["outcome"].as_str().unwrap();
    assert!(what.starts_with("deleted 500 ["), "{what}");
    assert!(what.contains(&names[0]) && what.contains(&names[499]));
    let request = |line: &Value| {
        line["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["name"] == "request"))
            .cloned()
            .unwrap_or_default()
    };
    let request_id = request(audit)["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the request's id in {audit}"))
        .to_string();
    let access = logged
        .iter()
        .find(|l| l["target"] == "access" && request(l)["id"] == request_id.as_str())
        .expect("the access log line of the same request");
    assert_eq!(access["status"], 200);
    assert_eq!(request(access)["path"], "/api/fn/delete_tags");
    assert!(logged.iter().any(|l| l["message"]
        .as_str()
        .is_some_and(|m| m.contains("stopped accepting"))));
}
