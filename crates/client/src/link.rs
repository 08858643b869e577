//! A logged-in WebSocket link to the hub shared by many requests at once: answers are
//! matched to their requests by number, and everything else the hub sends is handed on.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use huddle_protocol::request::{self, Ask};
use huddle_protocol::{
    AnswerBody, ClientFrame, ErrorFrame, HubLimits, Pushed, ServerFrame, PROTOCOL_VERSION,
};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use std::path::Path;

use tokio_tungstenite::Connector;

use crate::address::hub_ws_url;
use crate::error::ClientError;
use crate::proxy::{self, Proxy};
use crate::tls;
use tokio_tungstenite::tungstenite::http::uri::InvalidUri;
use tokio_tungstenite::tungstenite::http::Uri;

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;
type Waiting = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<AnswerBody, ErrorFrame>>>>>;

/// How long the hub may take to answer one request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);
/// How often the link pings the hub, and how long a silent hub is trusted.
const PING_EVERY: Duration = Duration::from_secs(15);
const SILENCE_LIMIT: Duration = Duration::from_secs(45);

/// What the hub sent that answers no request, or the end of the link.
#[derive(Debug)]
pub enum Incoming {
    /// An event, a presence update, or an error the hub could not tie to a request.
    Frame(Pushed),
    /// The link is gone, and why.
    Closed(String),
}

/// The sending half of a link; clones share it.
#[derive(Clone)]
pub struct Link {
    sink: Arc<tokio::sync::Mutex<Sink>>,
    waiting: Waiting,
    next_req: Arc<AtomicU64>,
}

impl Link {
    /// Connects to the hub, agrees on the protocol version, and starts reading. Frames that
    /// answer no request go to `incoming`, followed by [`Incoming::Closed`] at the end.
    /// Returns the link and the hub's limits.
    pub async fn open(
        address: &str,
        ca_file: Option<&Path>,
        proxy: &Proxy,
        incoming: mpsc::Sender<Incoming>,
    ) -> Result<(Self, HubLimits), ClientError> {
        let url = hub_ws_url(address)?;
        let secure = url.starts_with("wss://");
        let connector = if secure {
            Some(Connector::Rustls(tls::client_config(ca_file)?))
        } else {
            None
        };
        let unreachable = |reason: String| ClientError::Unreachable {
            url: url.clone(),
            reason,
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: InvalidUri| unreachable(e.to_string()))?;
        let host = uri.host().unwrap_or_default().to_string();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        let through = proxy.for_hub(&host, secure);
        let connecting = async {
            let stream =
                match &through {
                    Some(via) => proxy::tunnel(via, &host, port).await.map_err(|error| {
                        ClientError::Proxy {
                            proxy: via.to_string(),
                            error,
                        }
                    })?,
                    None => TcpStream::connect((host.trim_matches(['[', ']']), port))
                        .await
                        .map_err(|e| unreachable(e.to_string()))?,
                };
            tokio_tungstenite::client_async_tls_with_config(url.as_str(), stream, None, connector)
                .await
                .map_err(|e| unreachable(e.to_string()))
        };
        let (ws, _) = match tokio::time::timeout(ANSWER_TIMEOUT, connecting).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(unreachable("no answer in time".into())),
        };
        let (sink, mut stream) = ws.split();
        let link = Link {
            sink: Arc::new(tokio::sync::Mutex::new(sink)),
            waiting: Arc::default(),
            next_req: Arc::new(AtomicU64::new(1)),
        };
        let waiting = link.waiting.clone();
        let pinger = link.clone();
        tokio::spawn(async move {
            let mut ping = tokio::time::interval(PING_EVERY);
            let mut last_heard = tokio::time::Instant::now();
            let reason = loop {
                tokio::select! {
                    message = stream.next() => {
                        last_heard = tokio::time::Instant::now();
                        match message {
                            None => break "the connection closed".to_string(),
                            Some(Err(e)) => break e.to_string(),
                            Some(Ok(Message::Close(frame))) => break match frame {
                                Some(f) if !f.reason.is_empty() => format!("the hub closed the connection: {}", f.reason),
                                _ => "the hub closed the connection".to_string(),
                            },
                            Some(Ok(Message::Text(text))) => match ServerFrame::decode(text.as_str()) {
                                Ok(ServerFrame::Answer { re, answer }) => {
                                    let waiter = waiting.lock().unwrap_or_else(|p| p.into_inner()).remove(&re);
                                    if let Some(waiter) = waiter {
                                        let _ = waiter.send(answer);
                                    }
                                }
                                Ok(ServerFrame::Pushed(pushed)) => {
                                    if incoming.send(Incoming::Frame(pushed)).await.is_err() {
                                        break "the engine stopped".to_string();
                                    }
                                }
                                Err(e) => tracing::warn!(error = %e, "unreadable frame from the hub"),
                            },
                            Some(Ok(_)) => {}
                        }
                    }
                    _ = ping.tick() => {
                        if last_heard.elapsed() > SILENCE_LIMIT {
                            break "the hub stopped answering".to_string();
                        }
                        if pinger.sink.lock().await.send(Message::Ping(Default::default())).await.is_err() {
                            break "the connection failed".to_string();
                        }
                    }
                }
            };
            // Requests still waiting fail now rather than at their time-out.
            waiting.lock().unwrap_or_else(|p| p.into_inner()).clear();
            let _ = incoming.send(Incoming::Closed(reason)).await;
        });
        let hello = request::Hello {
            protocol: PROTOCOL_VERSION,
            client: crate::CLIENT_VERSION.to_string(),
        };
        let welcome = link.ask(hello).await?;
        Ok((link, welcome.limits))
    }

    /// Sends a request and waits for its answer; an `error` answer is a
    /// [`ClientError::Refused`].
    pub async fn ask<R: Ask>(&self, request: R) -> Result<R::Answer, ClientError> {
        let request = request.into();
        let req = self.next_req.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(req, answer);
        let text = serde_json::to_string(&ClientFrame { req, request })
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let sent = self
            .sink
            .lock()
            .await
            .send(Message::Text(text.into()))
            .await;
        if let Err(e) = sent {
            self.waiting
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&req);
            return Err(ClientError::Lost(e.to_string()));
        }
        match tokio::time::timeout(ANSWER_TIMEOUT, answered).await {
            Ok(Ok(Err(e))) => Err(ClientError::Refused(e)),
            Ok(Ok(Ok(body))) => body.read::<R::Answer>().map_err(ClientError::Protocol),
            Ok(Err(_)) => Err(ClientError::Lost(
                "the connection ended before the answer".into(),
            )),
            Err(_) => {
                self.waiting
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&req);
                Err(ClientError::Timeout)
            }
        }
    }

    /// Closes the link.
    pub async fn close(&self) {
        let _ = self.sink.lock().await.send(Message::Close(None)).await;
    }
}
