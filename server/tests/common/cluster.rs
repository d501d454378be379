//! Several replicas with real parts: Debian's `redis-server`, Debian's `haproxy` (round
//! robin, no stickiness) in front, one GitLab double they all talk to, each started on
//! loopback for the test and stopped when it ends. `scripts/setup.sh` installs both servers;
//! a test that needs them fails with that advice when they are missing.

use super::servers;
use gitlab_double::{Double, DoubleConfig, OAuthApp};
use server::config::Config;
use server::RunningServer;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port for a server that binds it a moment later (haproxy, Redis, a
/// replica). Taken below Linux's ephemeral range (32768 and up): the servers other tests
/// start on port 0 get ephemeral ports, so none of them can take this one between the check
/// and its use, which once made a test talk to another test's server. Each process starts
/// at its own offset and never hands out a port twice.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    const FIRST: u16 = 10_000;
    const SPAN: u16 = 20_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let offset = std::process::id() % u32::from(SPAN);
    for _ in 0..SPAN {
        let step = u32::from(NEXT.fetch_add(1, Ordering::Relaxed));
        let port = FIRST + ((offset + step) % u32::from(SPAN)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port between {FIRST} and {}", FIRST + SPAN)
}

fn program(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
        let path = PathBuf::from(dir).join(name);
        if path.is_file() {
            return path;
        }
    }
    panic!("{name} is not installed: run scripts/setup.sh (it installs Debian's {name})");
}

fn wait_for_port(port: u16, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what} did not open port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("the command ran");
    assert!(status.success());
}

/// A `redis-server` on a free loopback port, without persistence.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// A server on `port` (one a dashboard was told about before Redis was up).
    pub fn start_on(port: u16) -> Self {
        let mut redis = RedisServer { port, child: None };
        redis.run();
        redis
    }

    fn run(&mut self) {
        let child = Command::new(program("redis-server"))
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        self.child = Some(child);
        wait_for_port(self.port, "redis-server");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Freezes the server (it keeps its data but answers nothing): a hung Redis.
    pub fn freeze(&self) {
        signal(
            self.child.as_ref().expect("started with the double"),
            "-STOP",
        );
    }

    pub fn thaw(&self) {
        signal(
            self.child.as_ref().expect("started with the double"),
            "-CONT",
        );
    }

    /// Stops the server (its data is gone) and starts an empty one on the same port.
    pub fn restart_empty(&mut self) {
        self.stop();
        self.run();
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `haproxy` on a free loopback port, round robin over `backends`, no stickiness; a
/// replica that refuses connections is retried on the next one.
pub struct Haproxy {
    pub port: u16,
    child: Child,
    _dir: TempDir,
}

impl Haproxy {
    pub fn start(port: u16, backends: &[SocketAddr]) -> Self {
        let dir = TempDir::new("haproxy");
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, addr)| format!("  server r{i} {addr} check inter 300 fall 1 rise 1\n"))
            .collect();
        let config = format!(
            "global\n  maxconn 2000\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  \
             timeout server 60s\n  retries 3\n  option redispatch 1\n  \
             retry-on conn-failure empty-response\n\
             frontend dashboard\n  bind 127.0.0.1:{port}\n  default_backend replicas\n\
             backend replicas\n  balance roundrobin\n{servers}"
        );
        let path = dir.0.join("haproxy.cfg");
        std::fs::write(&path, config).expect("a writable temp dir");
        let child = Command::new(program("haproxy"))
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary starts");
        wait_for_port(port, "haproxy");
        Haproxy {
            port,
            child,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(what: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "registry-dash-{what}-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&path).expect("a writable temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A GitLab double serving on loopback for replicas whose public URL is `public_url`.
pub async fn start_double(
    public_url: &str,
    configure: impl FnOnce(&mut DoubleConfig),
) -> (Double, String) {
    let mut config = DoubleConfig {
        clients: vec![OAuthApp {
            client_id: server::demo::DEMO_CLIENT_ID.into(),
            client_secret: server::demo::DEMO_CLIENT_SECRET.into(),
            redirect_uris: vec![format!("{public_url}/auth/callback/demo")],
            name: "registry-dash (cluster test)".into(),
            confidential: true,
        }],
        ..DoubleConfig::default()
    };
    configure(&mut config);
    let double = Double::new(config);
    let serving = double.clone();
    let base = servers()
        .spawn(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("a free loopback port");
            let base = format!("http://{}", listener.local_addr().expect("a bound address"));
            tokio::spawn(async move { serving.serve(listener).await });
            base
        })
        .await
        .expect("it starts");
    (double, base)
}

/// Replicas behind one URL, sharing one Redis and one GitLab double.
pub struct Cluster {
    pub redis: RedisServer,
    pub double: Double,
    pub double_url: String,
    pub proxy: Haproxy,
    pub replicas: Vec<Option<RunningServer>>,
    addrs: Vec<SocketAddr>,
    extra: Vec<(String, String)>,
}

impl Cluster {
    /// `replicas` BFFs with Redis behind haproxy; `extra` configuration for each.
    pub async fn start(replicas: usize, extra: &[(&str, &str)]) -> Self {
        Self::start_with(replicas, extra, |_| {}).await
    }

    pub async fn start_with(
        replicas: usize,
        extra: &[(&str, &str)],
        configure: impl FnOnce(&mut DoubleConfig),
    ) -> Self {
        let redis = RedisServer::start();
        let proxy_port = free_port();
        let public_url = format!("http://127.0.0.1:{proxy_port}");
        let (double, double_url) = start_double(&public_url, configure).await;
        let mut extra: Vec<(String, String)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        extra.extend(
            [
                ("REGISTRY_DASH_PUBLIC_URL", public_url.as_str()),
                ("REGISTRY_DASH_REDIS_URL", &redis.url()),
                ("GITLAB_URL", &double_url),
                ("GITLAB_NAME", "demo"),
                ("GITLAB_CLIENT_ID", server::demo::DEMO_CLIENT_ID),
                ("GITLAB_CLIENT_SECRET", server::demo::DEMO_CLIENT_SECRET),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let addrs: Vec<SocketAddr> = (0..replicas)
            .map(|_| SocketAddr::from(([127, 0, 0, 1], free_port())))
            .collect();
        let mut running = Vec::new();
        for addr in &addrs {
            running.push(Some(run_replica(&extra, *addr).await));
        }
        Cluster {
            redis,
            double,
            double_url,
            proxy: Haproxy::start(proxy_port, &addrs),
            replicas: running,
            addrs,
            extra,
        }
    }

    /// The URL everyone uses.
    pub fn url(&self) -> String {
        self.proxy.url()
    }

    /// One replica's own URL (bypassing the proxy).
    pub fn replica_url(&self, i: usize) -> String {
        format!("http://{}", self.addrs[i])
    }

    pub fn replica(&self, i: usize) -> &RunningServer {
        self.replicas[i].as_ref().expect("started with the double")
    }

    /// Stops replica `i` (gracefully, as Kubernetes does) and waits for it to end.
    pub async fn stop(&mut self, i: usize) {
        let mut replica = self.replicas[i].take().expect("stdout is piped");
        replica.shutdown();
        replica.task.await.expect("the replica stops cleanly");
    }

    /// Starts replica `i` again on its address.
    pub async fn restart(&mut self, i: usize) {
        let replica = run_replica(&self.extra, self.addrs[i]).await;
        self.replicas[i] = Some(replica);
    }
}

async fn run_replica(extra: &[(String, String)], addr: SocketAddr) -> RunningServer {
    let mut vars = extra.to_vec();
    vars.push(("REGISTRY_DASH_LISTEN".into(), addr.to_string()));
    let config = Config::load(None, &vars).expect("a valid configuration");
    servers()
        .spawn(async move { server::start(config).await })
        .await
        .expect("the start-up task ends")
        .expect("the server starts")
}
