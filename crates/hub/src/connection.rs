//! One client's WebSocket connection: hello, login, and answering every frame.

use std::sync::Arc;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use huddle_protocol::{
    decode_client_frame, ErrorCode, ErrorFrame, Reply, Request, ServerFrame, PROTOCOL_VERSION,
};

use crate::accounts::{self, Account, LoginCheck};
use crate::server::Shared;

/// Where a connection is in its life.
enum Phase {
    AwaitingHello,
    AwaitingLogin,
    LoggedIn(Account),
}

/// What to do with the connection after a frame.
enum Next {
    Continue,
    Close,
}

pub(crate) async fn run(shared: Arc<Shared>, mut socket: WebSocket) {
    let mut phase = Phase::AwaitingHello;
    let mut stopping = shared.stopping.clone();
    loop {
        let message = tokio::select! {
            message = socket.recv() => message,
            _ = async { stopping.wait_for(|stop| *stop).await.is_ok() } => {
                let _ = socket
                    .send(Message::Close(Some(CloseFrame {
                        code: close_code::AWAY,
                        reason: "the hub is shutting down".into(),
                    })))
                    .await;
                break;
            }
        };
        let message = match message {
            None => break,
            Some(Ok(m)) => m,
            Some(Err(e)) => {
                tracing::debug!(error = %e, "connection read failed");
                break;
            }
        };
        let (answer, next) = match message {
            Message::Text(text) if text.len() > shared.config.limits.max_frame_bytes => (
                ServerFrame::error(
                    None,
                    ErrorFrame::new(
                        ErrorCode::FrameTooLarge,
                        format!(
                            "frames may have at most {} bytes; this one has {}",
                            shared.config.limits.max_frame_bytes,
                            text.len()
                        ),
                    ),
                ),
                Next::Continue,
            ),
            Message::Text(text) => match decode_client_frame(text.as_str()) {
                Ok(frame) => {
                    let (reply, next) = handle(&shared, &mut phase, frame.request).await;
                    (ServerFrame::answer(frame.req, reply), next)
                }
                Err((req, error)) => (ServerFrame::error(req, error), Next::Continue),
            },
            Message::Binary(_) => (
                ServerFrame::error(
                    None,
                    ErrorFrame::new(
                        ErrorCode::BinaryFrame,
                        "frames must be JSON text, not binary",
                    ),
                ),
                Next::Continue,
            ),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        if let Reply::Error(e) = &answer.reply {
            tracing::debug!(code = %e.code, "request refused");
        }
        if let Err(e) = send(&mut socket, &answer).await {
            tracing::debug!(error = %e, "connection write failed");
            break;
        }
        if let Next::Close = next {
            let _ = socket.send(Message::Close(None)).await;
            break;
        }
    }
    if let Phase::LoggedIn(agent) = phase {
        tracing::info!(login = %agent.login, "agent disconnected");
    }
}

async fn send(socket: &mut WebSocket, frame: &ServerFrame) -> anyhow::Result<()> {
    let text = serde_json::to_string(frame)?;
    socket.send(Message::Text(text.into())).await?;
    Ok(())
}

fn refuse(code: ErrorCode, message: impl Into<String>) -> (Reply, Next) {
    (Reply::Error(ErrorFrame::new(code, message)), Next::Continue)
}

async fn handle(shared: &Shared, phase: &mut Phase, request: Request) -> (Reply, Next) {
    match (&*phase, request) {
        (Phase::AwaitingHello, Request::Hello { protocol, client }) => {
            if protocol != PROTOCOL_VERSION {
                tracing::info!(%client, protocol, "refused a client of another protocol version");
                let message = format!(
                    "this hub speaks protocol version {PROTOCOL_VERSION} and the client speaks {protocol}; {}",
                    if protocol < PROTOCOL_VERSION {
                        "update the app"
                    } else {
                        "the hub needs an update"
                    }
                );
                return (
                    Reply::Error(ErrorFrame::new(ErrorCode::UnsupportedVersion, message)),
                    Next::Close,
                );
            }
            *phase = Phase::AwaitingLogin;
            (
                Reply::Welcome {
                    protocol: PROTOCOL_VERSION,
                    hub: crate::HUB_VERSION.to_string(),
                },
                Next::Continue,
            )
        }
        (Phase::AwaitingHello, _) => refuse(
            ErrorCode::HelloRequired,
            "the first frame must be `hello` with the protocol version",
        ),
        (_, Request::Hello { .. }) => refuse(
            ErrorCode::InvalidFrame,
            "`hello` was already exchanged on this connection",
        ),
        (Phase::AwaitingLogin, Request::Login { login, password }) => {
            match accounts::check_login(&shared.db, &login, &password).await {
                Ok(LoginCheck::Ok(account)) => {
                    tracing::info!(login = %account.login, "agent logged in");
                    let agent = account.profile();
                    *phase = Phase::LoggedIn(account);
                    (Reply::LoggedIn { agent }, Next::Continue)
                }
                Ok(LoginCheck::UnknownAgent) => {
                    tracing::info!(%login, "login refused: unknown agent");
                    refuse(
                        ErrorCode::UnknownAgent,
                        format!("no agent has the login {login:?}"),
                    )
                }
                Ok(LoginCheck::WrongPassword) => {
                    tracing::info!(%login, "login refused: wrong password");
                    refuse(ErrorCode::WrongPassword, "the password is not right")
                }
                Ok(LoginCheck::Disabled) => {
                    tracing::info!(%login, "login refused: account disabled");
                    refuse(
                        ErrorCode::AgentDisabled,
                        "this account is disabled; ask your administrator",
                    )
                }
                Err(e) => {
                    tracing::error!(error = %e, "login check failed");
                    refuse(ErrorCode::Internal, "the hub could not check the login")
                }
            }
        }
        (Phase::LoggedIn(_), Request::Login { .. }) => refuse(
            ErrorCode::AlreadyLoggedIn,
            "this connection is already logged in",
        ),
    }
}
