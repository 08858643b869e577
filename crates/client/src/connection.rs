//! A WebSocket connection to the hub, with the hello exchange and login.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use huddle_protocol::{
    AgentProfile, ClientFrame, ErrorFrame, Reply, Request, ServerFrame, PROTOCOL_VERSION,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::address::{hub_ws_url, AddressError};

/// How long the hub may take to answer one request.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// Why talking to the hub failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The typed hub address cannot be used.
    #[error(transparent)]
    Address(#[from] AddressError),
    /// The hub could not be reached.
    #[error("cannot reach the hub at {url}: {reason}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// What the network said.
        reason: String,
    },
    /// The hub refused the request.
    #[error("the hub refused: {0}")]
    Refused(ErrorFrame),
    /// The hub answered something this client does not expect.
    #[error("the hub answered unexpectedly: {0}")]
    Protocol(String),
    /// The connection ended before the answer came.
    #[error("the connection to the hub was lost: {0}")]
    Lost(String),
    /// No answer came in time.
    #[error("the hub did not answer within {} seconds", ANSWER_TIMEOUT.as_secs())]
    Timeout,
}

/// An open connection to a hub that has agreed on the protocol version.
pub struct Connection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    url: String,
    hub_version: String,
    next_req: u64,
}

impl Connection {
    /// Connects to the hub at the typed address and agrees on the protocol version.
    pub async fn connect(address: &str) -> Result<Self, ClientError> {
        let url = hub_ws_url(address)?;
        let connecting = tokio_tungstenite::connect_async(url.as_str());
        let (ws, _) = match tokio::time::timeout(ANSWER_TIMEOUT, connecting).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                return Err(ClientError::Unreachable {
                    url,
                    reason: e.to_string(),
                })
            }
            Err(_) => {
                return Err(ClientError::Unreachable {
                    url,
                    reason: "no answer in time".into(),
                })
            }
        };
        let mut connection = Self {
            ws,
            url,
            hub_version: String::new(),
            next_req: 1,
        };
        let hello = Request::Hello {
            protocol: PROTOCOL_VERSION,
            client: crate::CLIENT_VERSION.to_string(),
        };
        match connection.request(hello).await? {
            Reply::Welcome { hub, .. } => {
                connection.hub_version = hub;
                Ok(connection)
            }
            other => Err(ClientError::Protocol(format!(
                "expected `welcome`, got `{}`",
                other.kind()
            ))),
        }
    }

    /// The hub's WebSocket URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The hub software's name and version, as it reported at hello.
    pub fn hub_version(&self) -> &str {
        &self.hub_version
    }

    /// Logs in with a password.
    pub async fn login(
        &mut self,
        login: &str,
        password: &str,
    ) -> Result<AgentProfile, ClientError> {
        let request = Request::Login {
            login: login.to_string(),
            password: password.to_string(),
        };
        match self.request(request).await? {
            Reply::LoggedIn { agent, .. } => Ok(agent),
            other => Err(ClientError::Protocol(format!(
                "expected `logged_in`, got `{}`",
                other.kind()
            ))),
        }
    }

    /// Waits until the connection ends, and says why it ended.
    pub async fn closed(mut self) -> String {
        loop {
            match self.ws.next().await {
                None => return "the connection closed".into(),
                Some(Err(e)) => return e.to_string(),
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(f) if !f.reason.is_empty() => {
                            format!("the hub closed the connection: {}", f.reason)
                        }
                        _ => "the hub closed the connection".into(),
                    }
                }
                Some(Ok(_)) => {}
            }
        }
    }

    /// Sends a request and waits for its answer; an `error` answer becomes
    /// [`ClientError::Refused`].
    async fn request(&mut self, request: Request) -> Result<Reply, ClientError> {
        let req = self.next_req;
        self.next_req += 1;
        let text = serde_json::to_string(&ClientFrame { req, request })
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        self.ws
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| ClientError::Lost(e.to_string()))?;
        match tokio::time::timeout(ANSWER_TIMEOUT, self.answer_to(req)).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout),
        }
    }

    async fn answer_to(&mut self, req: u64) -> Result<Reply, ClientError> {
        loop {
            let message = match self.ws.next().await {
                None => return Err(ClientError::Lost("the hub closed the connection".into())),
                Some(Err(e)) => return Err(ClientError::Lost(e.to_string())),
                Some(Ok(m)) => m,
            };
            let text = match message {
                Message::Text(t) => t,
                Message::Close(_) => {
                    return Err(ClientError::Lost("the hub closed the connection".into()))
                }
                _ => continue,
            };
            let frame: ServerFrame = serde_json::from_str(text.as_str())
                .map_err(|e| ClientError::Protocol(format!("unreadable frame: {e}")))?;
            match (frame.re, frame.reply) {
                (Some(re), Reply::Error(e)) if re == req => return Err(ClientError::Refused(e)),
                // An error that answers no request concerns the connection as a whole.
                (None, Reply::Error(e)) => return Err(ClientError::Refused(e)),
                (Some(re), reply) if re == req => return Ok(reply),
                _ => {}
            }
        }
    }
}
