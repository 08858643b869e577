//! Accepting connections. Every TCP connection takes a place before anything else is read from
//! it: the places are bounded in all and per source address, so nobody can hold more of the
//! hub's sockets than the limits say. A TLS handshake and an HTTP request head must each come
//! within their deadline; a WebSocket keeps its place until it closes (and must sign in within
//! its own deadline, see `connection`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::transport::metrics::Metrics;

/// How long open HTTP requests may take to finish once the hub stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// The connections the hub serves at once: in all, and from each source address.
pub struct Places {
    all: Arc<Semaphore>,
    per_address: Mutex<HashMap<IpAddr, u32>>,
    max_per_address: u32,
}

impl Places {
    /// At most `max` connections, and `max_per_address` from one address.
    pub fn new(max: u32, max_per_address: u32) -> Arc<Self> {
        Arc::new(Self {
            all: Arc::new(Semaphore::new(max as usize)),
            per_address: Mutex::new(HashMap::new()),
            max_per_address,
        })
    }

    /// A place for a connection from `address`, if one is free.
    pub fn take(self: &Arc<Self>, address: IpAddr) -> Option<Place> {
        let permit = self.all.clone().try_acquire_owned().ok()?;
        let mut per_address = self.lock();
        let count = per_address.entry(address).or_insert(0);
        if *count >= self.max_per_address {
            if *count == 0 {
                per_address.remove(&address);
            }
            return None;
        }
        *count += 1;
        Some(Place {
            _permit: permit,
            address,
            places: self.clone(),
        })
    }

    /// How many connections the hub holds now.
    pub fn held(&self) -> usize {
        self.lock().values().map(|n| *n as usize).sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, u32>> {
        // Every update under the lock is a counter's step: a panic cannot leave it torn.
        self.per_address.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A connection's place, given back when the connection (and its WebSocket, if it became
/// one) has ended.
pub struct Place {
    _permit: OwnedSemaphorePermit,
    address: IpAddr,
    places: Arc<Places>,
}

impl Place {
    /// The address the connection comes from.
    pub fn address(&self) -> IpAddr {
        self.address
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut per_address = self.places.lock();
        if let Some(count) = per_address.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                per_address.remove(&self.address);
            }
        }
    }
}

/// The deadlines of a connection before it is a WebSocket.
#[derive(Debug, Clone, Copy)]
pub struct Deadlines {
    /// For the TLS handshake.
    pub handshake: Duration,
    /// For each HTTP request head (the first, and the next on a kept-alive connection).
    pub request_head: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes: with TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    places: Arc<Places>,
    deadlines: Deadlines,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let graceful = GracefulShutdown::new();
    let tls = tls.map(TlsAcceptor::from);
    // HTTP/1.1 only: WebSocket upgrades, the integration API and the probes need no more.
    let mut http = auto::Builder::new(TokioExecutor::new()).http1_only();
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(deadlines.request_head);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(place) = places.take(peer.ip()) else {
            metrics.connection_refused();
            tracing::debug!(%peer, "refused a connection: no place left");
            continue;
        };
        // Small frames should leave at once, not wait for Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let connection = Connection {
            place: Arc::new(place),
            peer,
            app: app.clone(),
            http: http.clone(),
            watcher: graceful.watcher(),
        };
        match &tls {
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(deadlines.handshake, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => connection.serve(tls).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
            None => {
                tokio::spawn(connection.serve(tcp));
            }
        }
    }
    // HTTP requests under way finish; WebSockets are told to close by the hub's own signal.
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::debug!("some HTTP requests did not finish in time");
    }
}

/// One accepted connection, about to be served.
struct Connection {
    place: Arc<Place>,
    peer: SocketAddr,
    app: Router,
    http: auto::Builder<TokioExecutor>,
    watcher: Watcher,
}

impl Connection {
    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Self {
            place,
            peer,
            app,
            http,
            watcher,
        } = self;
        // Each request carries the connection's place: a WebSocket takes it along.
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(place.clone());
            let app = app.clone();
            async move {
                let response = app
                    .oneshot(request.map(Body::new))
                    .await
                    .unwrap_or_else(|never: Infallible| match never {});
                Ok::<_, Infallible>(response)
            }
        });
        let connection = http.serve_connection_with_upgrades(TokioIo::new(io), service);
        if let Err(e) = watcher.watch(connection).await {
            tracing::debug!(%peer, error = %e, "HTTP connection ended");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_in_all_and_per_address_and_come_back() {
        let places = Places::new(3, 2);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let first = places.take(a).unwrap();
        let second = places.take(a).unwrap();
        assert!(places.take(a).is_none(), "a third from one address");
        let other = places.take(b).unwrap();
        assert!(places.take(b).is_none(), "a fourth in all");
        assert_eq!(places.held(), 3);
        drop(first);
        assert!(places.take(b).is_some(), "a place came back");
        drop((second, other));
        assert_eq!(places.held(), 0);
        assert!(
            places.lock().is_empty(),
            "no address is kept once its connections are gone"
        );
    }
}
