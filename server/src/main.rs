//! `registry-dash`: the dashboard server. See README.md for configuration.

use clap::{Parser, Subcommand};
use server::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

/// A dashboard for the GitLab Container Registry.
#[derive(Parser)]
#[command(name = "registry-dash", version, about, long_about = None)]
struct Cli {
    /// A TOML configuration file (also REGISTRY_DASH_CONFIG); environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run against the built-in demo GitLab (also REGISTRY_DASH_DEMO=1); loopback only.
    #[arg(long, global = true)]
    demo: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboard (the default).
    Serve,
    /// Validate the configuration and try each GitLab instance, without serving.
    CheckConfig,
}

fn load(cli: &Cli) -> Result<Config, server::config::ConfigError> {
    let mut vars: Vec<(String, String)> = std::env::vars().collect();
    if cli.demo {
        vars.push(("REGISTRY_DASH_DEMO".into(), "1".into()));
    }
    let named = std::env::var(server::config::CONFIG_VAR)
        .ok()
        .filter(|p| !p.is_empty())
        .map(PathBuf::from);
    Config::load(cli.config.as_deref().or(named.as_deref()), &vars)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load(&cli) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("registry-dash: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("registry-dash: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => runtime.block_on(check_config(config)),
        Command::Serve => runtime.block_on(serve(config)),
    }
}

async fn check_config(config: Config) -> ExitCode {
    let findings = server::check::check(&config).await;
    let mut ok = true;
    for finding in &findings {
        println!(
            "{} {}",
            if finding.ok { "ok  " } else { "FAIL" },
            finding.text
        );
        ok &= finding.ok;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn serve(config: Config) -> ExitCode {
    let public_url = config.public_url.clone();
    let mut running = match server::start(config).await {
        Ok(running) => running,
        Err(error) => {
            eprintln!("registry-dash: cannot start: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    // Plain lines on stdout for people and for the end-to-end harness to read.
    if let Some(double) = &running.double {
        println!("gitlab double at {}", double.base_url);
    }
    println!("registry-dash listening on {}", running.base_url);
    tracing::info!(
        url = %public_url,
        listen = %running.addr,
        version = env!("CARGO_PKG_VERSION"),
        "registry-dash is serving"
    );
    tokio::select! {
        signal = stop_signal() => {
            tracing::info!(signal, "stopping: no new connections; finishing requests in flight");
            running.shutdown();
        }
        _ = &mut running.task => {
            tracing::error!("the server stopped on its own");
            return ExitCode::FAILURE;
        }
    }
    match (&mut running.task).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "the server task failed while stopping");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM (Kubernetes, systemd) or SIGINT (Ctrl-C).
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}
