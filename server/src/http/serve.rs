//! Accepting connections: HTTP/1.1 through hyper, a bounded number of open connections, a
//! header-read timeout against slow clients (hyper also runs it while a keep-alive
//! connection waits for its next request, so idle connections close too), and a graceful
//! stop. HTTP/2 is left to the TLS-terminating proxy in front: plain-text HTTP/2 has no
//! idle limit in hyper, so one client could hold every connection slot.
//!
//! On shutdown: stop accepting at once, let every connection finish the request it is on
//! (keep-alive ends after it), and let tracked destructive work (deletions, runs) finish;
//! all within the grace period, after which whatever is left is dropped.

use crate::config::Limits;
use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

/// Serves `app` on `listener` until `shutdown` resolves, then stops gracefully.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tasks: TaskTracker,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs))
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    let grace = Duration::from_secs(limits.shutdown_grace_secs);
    tracing::info!(
        grace_secs = grace.as_secs(),
        "stopped accepting; finishing requests in flight"
    );
    let deadline = tokio::time::Instant::now() + grace;
    tasks.close();
    if tokio::time::timeout_at(deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over with connections still open; closing them");
    }
    if tokio::time::timeout_at(deadline, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            left = tasks.len(),
            "grace period over with work still running; it is cut off"
        );
    }
}
