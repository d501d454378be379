//! `registry-dash`: the dashboard server. See README.md for configuration.

use server::config::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,tower_sessions=warn")),
        )
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("registry-dash: configuration error: {error}");
            std::process::exit(2);
        }
    };
    let public_url = config.public_url.clone();
    let running = server::start(config).await?;
    // Plain lines on stdout for people and for the end-to-end harness to read.
    if let Some(double) = &running.double {
        println!("gitlab double at {}", double.base_url);
    }
    println!("registry-dash listening on {}", running.base_url);
    tracing::info!(url = %public_url, listen = %running.addr, "registry-dash is serving");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("shutting down"),
        _ = running.task => tracing::error!("server task ended"),
    }
    Ok(())
}
