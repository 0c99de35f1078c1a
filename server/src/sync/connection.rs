//! One viewer's WebSocket: `GET /ws/session/{id}`.
//!
//! The socket must open with `hello`; until then only `ping` is answered. After joining, each
//! text message is size-checked, rate-limited and parsed; anything wrong earns that client a
//! typed `error` while the connection and the session carry on. When the socket closes, the
//! member's connection count drops (and the host role moves on if it was the host's last tab).

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use marquee_store::SessionStoreError;
use marquee_sync::protocol::{MAX_MESSAGE_BYTES, RATE_BURST, RATE_PER_SEC, close as code};
use marquee_sync::{
    Admitted, ClientMsg, ErrorCode, MemberId, PROTOCOL_VERSION, ServerMsg, SessionError, SessionId,
    member,
};
use tokio::sync::broadcast::error::RecvError;
use tracing::Instrument;

use super::hub::{Hub, Outbound};
use super::now_ms;
use super::rate_limit::TokenBucket;
use crate::state::AppState;

/// Frames above this are refused by the WebSocket layer itself (the protocol's own limit,
/// [`MAX_MESSAGE_BYTES`], is checked per message with a friendly error).
const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Read and write buffer per connection.
const IO_BUFFER_BYTES: usize = 4 * 1024;
/// A connection that does not say hello in time is closed.
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a signed-in viewer's socket checks that their sign-in has not ended (a
/// sign-out elsewhere closes it within this).
const SIGN_OUT_CHECK: Duration = Duration::from_secs(5);

type Sink = SplitSink<WebSocket, Message>;

/// The upgrade handler.
pub async fn upgrade(
    ws: WebSocketUpgrade,
    Path(session): Path<String>,
    State(state): State<AppState>,
    account: Option<axum::Extension<app::model::Account>>,
    request_id: Option<axum::Extension<app::ssr::errors::RequestId>>,
    client: Option<axum::Extension<crate::client_addr::ClientAddr>>,
    sign_in: Option<axum::Extension<crate::auth::routes::SignIn>>,
) -> Response {
    let address = client.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.bucket);
    let permit = match state.sockets.admit(address) {
        Ok(permit) => permit,
        Err(refusal) => {
            tracing::info!(%refusal, "refused a WebSocket");
            let status = match refusal {
                super::sockets::SocketRefusal::Address(_) => StatusCode::TOO_MANY_REQUESTS,
                super::sockets::SocketRefusal::Full(_) => StatusCode::SERVICE_UNAVAILABLE,
            };
            return crate::auth::routes::json_error(
                status,
                "too_many_sockets",
                &refusal.to_string(),
            );
        }
    };
    // The connection keeps its upgrade request's id: failures it reports carry it.
    let request_id = request_id.map(|r| r.0).unwrap_or_default();
    let hub = state.hub.clone();
    let identity = Identity {
        signed_in: account.map(|a| a.0),
        sign_in: sign_in.map(|s| s.0.0),
        auth: state.auth.clone(),
        policy: crate::access::Policy {
            sign_in: state.auth.discord.is_some(),
            guests: state.guests,
        },
        roles: state.roles.clone(),
    };
    // Protocol messages are a few hundred bytes (snapshots a few KiB): small buffers keep a
    // connection's memory low; the defaults (128 KiB each way) are sized for bulk transfer.
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(IO_BUFFER_BYTES)
        .write_buffer_size(IO_BUFFER_BYTES)
        .on_upgrade(move |socket| {
            let span = tracing::info_span!("viewer", id = %request_id, session = %session);
            let connection = async move {
                let _permit = permit;
                let (mut sink, stream) = socket.split();
                if let Err(e) = run(&hub, &session, &identity, &mut sink, stream).await {
                    tracing::debug!(error = %e, "viewer connection ended with an error");
                }
                let _ = sink.close().await;
            };
            app::ssr::errors::scope(request_id.clone(), connection).instrument(span)
        })
}

async fn send(sink: &mut Sink, msg: &ServerMsg) -> Result<(), axum::Error> {
    let text = serde_json::to_string(msg).expect("protocol messages always serialise");
    sink.send(Message::Text(text.into())).await
}

/// Ends the connection with one of the protocol's [close codes](marquee_sync::protocol::close).
async fn close(sink: &mut Sink, code: u16, reason: &'static str) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
}

/// What every incoming text passes before it is acted on, joined or not: the rate limit,
/// the size limit and parsing. `Err(Some(reply))` is a typed error for the client;
/// `Err(None)` drops the message quietly (rate-limit notices go out once a second at most, so
/// a flood is not answered with a flood).
struct Gate {
    bucket: TokenBucket,
    last_rate_notice: Option<std::time::Instant>,
}

impl Gate {
    fn new() -> Self {
        Self {
            bucket: TokenBucket::new(RATE_PER_SEC, RATE_BURST),
            last_rate_notice: None,
        }
    }

    fn admit(&mut self, text: &str) -> Result<ClientMsg, Option<Box<ServerMsg>>> {
        if !self.bucket.try_take() {
            let quiet = self
                .last_rate_notice
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
            if quiet {
                return Err(None);
            }
            self.last_rate_notice = Some(std::time::Instant::now());
            return Err(Some(Box::new(ServerMsg::error(
                None,
                ErrorCode::RateLimited,
                format!("Too many messages: at most {RATE_PER_SEC} a second. Some were dropped."),
            ))));
        }
        if text.len() > MAX_MESSAGE_BYTES {
            return Err(Some(Box::new(ServerMsg::error(
                None,
                ErrorCode::TooLarge,
                format!("Messages may be at most {MAX_MESSAGE_BYTES} bytes."),
            ))));
        }
        serde_json::from_str::<ClientMsg>(text).map_err(|e| {
            let mut detail = e.to_string();
            detail.truncate(200);
            Some(Box::new(ServerMsg::error(
                None,
                ErrorCode::Malformed,
                format!("Unreadable message: {detail}"),
            )))
        })
    }
}

/// The clock-sync reply to a ping received at `received_at`.
fn pong(t0: f64, received_at: f64) -> ServerMsg {
    ServerMsg::Pong {
        t0,
        t1: received_at,
        t2: now_ms(),
    }
}

/// Per-connection state once joined.
struct Viewer<'a> {
    hub: &'a Hub,
    session: &'a str,
    member: MemberId,
    gate: Gate,
}

/// Who the connection belongs to: a signed-in Discord user (by the access cookie, or the token
/// an embedded page sends in its hello), or an anonymous viewer.
struct Identity {
    /// The account of the access cookie of the upgrade request.
    signed_in: Option<app::model::Account>,
    /// That cookie's sign-in (refresh family).
    sign_in: Option<String>,
    /// Verifies tokens sent in a hello.
    auth: std::sync::Arc<crate::auth::Auth>,
    /// Who sessions admit: the [`Sessions`](crate::access::Door::Sessions) door's rule decides
    /// at hello, as the guard does for the session's pages.
    policy: crate::access::Policy,
    /// Reads a signed-in viewer's Discord control role (when the bot's token is set).
    roles: Option<std::sync::Arc<crate::auth::roles::RoleAdmission>>,
}

impl Identity {
    /// The Discord user of this connection (their id, name and whether this Marquee admits
    /// them) and their sign-in: the hello's token wins over the cookie.
    async fn account(
        &self,
        token: Option<&str>,
    ) -> Result<(Option<app::model::Account>, Option<String>), crate::auth::AuthError> {
        match token {
            Some(t) => self.auth.verify_live(t).await.map(|c| {
                let account = app::model::Account {
                    name: c.name,
                    discord_id: c.did,
                    allowed: c.allowed,
                };
                (Some(account), Some(c.sid))
            }),
            None => Ok((self.signed_in.clone(), self.sign_in.clone())),
        }
    }

    /// The Sessions door's rule for this account.
    fn admits(&self, account: Option<&app::model::Account>) -> bool {
        let visitor = crate::access::Visitor::of(account);
        crate::access::admit_session(&visitor, self.policy).is_ok()
    }

    /// The member to join as: (the existing member to rejoin as, the id for a new member). A
    /// signed-in user is always their Discord member (the one the bot names too), from every
    /// tab. An anonymous viewer comes back as the member a previous welcome gave them only with
    /// that member's rejoin key (member ids are in every snapshot), and never as a Discord
    /// user's member.
    async fn member(
        hub: &Hub,
        session: &str,
        discord_id: Option<&str>,
        requested: Option<MemberId>,
        key: Option<&str>,
    ) -> Result<(Option<MemberId>, MemberId), SessionStoreError> {
        if let Some(discord_id) = discord_id {
            let mine = member::discord(discord_id);
            return Ok((Some(mine.clone()), mine));
        }
        let new_id = member::anonymous(uuid::Uuid::new_v4().simple().to_string());
        let (Some(requested), Some(key)) = (requested, key) else {
            return Ok((None, new_id));
        };
        if member::is_discord(&requested) {
            return Ok((None, new_id));
        }
        let proven = hub
            .sessions()
            .member_key_matches(session, &requested, key)
            .await?;
        Ok((proven.then_some(requested), new_id))
    }
}

async fn run(
    hub: &Hub,
    session: &str,
    identity: &Identity,
    sink: &mut Sink,
    mut stream: SplitStream<WebSocket>,
) -> Result<(), axum::Error> {
    let exists = if SessionId::parse(session).is_ok() {
        hub.sessions().get(session).await
    } else {
        Ok(None)
    };
    match exists {
        Ok(Some(_)) => {}
        Ok(None) => {
            let msg = ServerMsg::error(
                None,
                ErrorCode::UnknownSession,
                "There is no watch session with this link. It may have ended.",
            );
            send(sink, &msg).await?;
            close(sink, code::UNKNOWN_SESSION, "unknown session").await;
            return Ok(());
        }
        Err(e) => {
            let reference = app::ssr::errors::log_internal("loading a session", &e);
            let msg = ServerMsg::error(
                None,
                ErrorCode::Unavailable,
                format!(
                    "The server could not load this session; try again shortly (reference {reference})."
                ),
            );
            send(sink, &msg).await?;
            close(sink, code::UNAVAILABLE, "unavailable").await;
            return Ok(());
        }
    }

    // Subscribe before joining so no event after our snapshot can slip past.
    let mut room = hub.enter(session);
    let mut gate = Gate::new();
    let hello = tokio::select! {
        hello = tokio::time::timeout(
            HELLO_TIMEOUT,
            await_hello(hub, session, identity, sink, &mut stream, &mut gate),
        ) => hello,
        () = hub.closing() => {
            close(sink, code::SERVICE_RESTART, "server restarting").await;
            return Ok(());
        }
    };
    let (member, sign_in) = match hello {
        Ok(Ok(Some(joined))) => joined,
        Ok(Ok(None)) => return Ok(()),
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            let msg = ServerMsg::error(None, ErrorCode::NotJoined, "No hello within 15 s.");
            send(sink, &msg).await?;
            close(sink, code::TIMEOUT, "no hello").await;
            return Ok(());
        }
    };
    let mut viewer = Viewer {
        hub,
        session,
        member,
        gate,
    };

    let mut sign_out_check = tokio::time::interval(SIGN_OUT_CHECK);
    sign_out_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let result = loop {
        tokio::select! {
            () = hub.closing() => {
                close(sink, code::SERVICE_RESTART, "server restarting").await;
                break Ok(());
            }
            _ = sign_out_check.tick(), if sign_in.is_some() => {
                let sid = sign_in.as_deref().unwrap_or_default();
                if identity.auth.revoked.is_revoked(sid).await {
                    let msg = ServerMsg::error(None, ErrorCode::SignInExpired, "You signed out.");
                    let _ = send(sink, &msg).await;
                    close(sink, code::SIGN_IN_EXPIRED, "signed out").await;
                    break Ok(());
                }
            }
            incoming = stream.next() => {
                let received_at = now_ms();
                match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break Ok(()),
                    Some(Ok(Message::Text(text))) => {
                        if let Err(e) = viewer.handle(sink, text.as_str(), received_at).await {
                            break Err(e);
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let msg = ServerMsg::error(None, ErrorCode::Malformed, "Messages are JSON text, not binary.");
                        if let Err(e) = send(sink, &msg).await {
                            break Err(e);
                        }
                    }
                    Some(Ok(_)) => {} // ping/pong frames are answered by the WebSocket layer
                }
            }
            out = room.rx.recv() => {
                let sent = match out {
                    Ok(Outbound::Event(text)) => sink.send(Message::Text(text)).await,
                    Ok(Outbound::Resync) | Err(RecvError::Lagged(_)) => viewer.snapshot(sink).await,
                    Err(RecvError::Closed) => break Ok(()),
                };
                if let Err(e) = sent {
                    break Err(e);
                }
            }
        }
    };

    let member = viewer.member.clone();
    let left = hub
        .sessions()
        .update(session, None, |s| {
            Ok((s.disconnect(&member, now_ms())?, ()))
        })
        .await;
    if let Err(e) = left {
        tracing::warn!(session, error = %e, "could not record a viewer leaving");
    }
    result
}

/// Reads until a valid hello joins the session; answers pings meanwhile.
async fn await_hello(
    hub: &Hub,
    session: &str,
    identity: &Identity,
    sink: &mut Sink,
    stream: &mut SplitStream<WebSocket>,
    gate: &mut Gate,
) -> Result<Option<(MemberId, Option<String>)>, axum::Error> {
    while let Some(incoming) = stream.next().await {
        let received_at = now_ms();
        let text = match incoming {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(_)) | Err(_) => return Ok(None),
            Ok(_) => continue,
        };
        let msg = match gate.admit(text.as_str()) {
            Ok(msg) => msg,
            Err(reply) => {
                if let Some(reply) = reply {
                    send(sink, &reply).await?;
                }
                continue;
            }
        };
        match msg {
            ClientMsg::Hello {
                protocol,
                name,
                member,
                member_key,
                token,
            } => {
                if protocol != PROTOCOL_VERSION {
                    let msg = ServerMsg::error(
                        None,
                        ErrorCode::UnsupportedProtocol,
                        format!("This server speaks protocol {PROTOCOL_VERSION}; reload the page."),
                    );
                    send(sink, &msg).await?;
                    close(sink, code::PROTOCOL, "protocol version").await;
                    return Ok(None);
                }
                let Ok((account, sign_in)) = identity.account(token.as_deref()).await else {
                    let msg = ServerMsg::error(
                        None,
                        ErrorCode::SignInExpired,
                        "Your sign-in has expired; signing in again.",
                    );
                    send(sink, &msg).await?;
                    close(sink, code::SIGN_IN_EXPIRED, "sign-in expired").await;
                    return Ok(None);
                };
                let discord_id = account.as_ref().map(|a| a.discord_id.clone());
                // A signed-in person appears under their Discord name, whatever the page says
                // (anyone could otherwise appear as "Ana").
                let name = account.as_ref().map_or(name, |a| a.name.clone());
                if !identity.admits(account.as_ref()) {
                    let msg = ServerMsg::error(
                        None,
                        ErrorCode::SignInRequired,
                        "This Marquee admits only people signed in with Discord. Sign in to join.",
                    );
                    send(sink, &msg).await?;
                    close(sink, code::SIGN_IN_REQUIRED, "sign-in required").await;
                    return Ok(None);
                }
                if let (Some(did), Some(roles)) = (discord_id.as_deref(), &identity.roles) {
                    roles.before_join(session, did, &name).await;
                }
                let claimed = Identity::member(
                    hub,
                    session,
                    discord_id.as_deref(),
                    member,
                    member_key.as_deref(),
                )
                .await;
                let (member, new_id) = match claimed {
                    Ok(claimed) => claimed,
                    Err(e) => {
                        send(sink, &store_error(None, &e)).await?;
                        continue;
                    }
                };
                let joined = hub
                    .sessions()
                    .update(session, None, |s| {
                        let (id, changes) =
                            s.join(member.as_deref(), new_id.clone(), &name, now_ms())?;
                        Ok((changes, id))
                    })
                    .await;
                match joined {
                    Ok(updated) => {
                        hub.watch_deadline(
                            session,
                            updated.session.wait.as_ref().map(|w| w.deadline),
                        );
                        // A new anonymous member gets the key to come back as itself.
                        let member_key = if discord_id.is_none() && updated.value == new_id {
                            match hub.sessions().issue_member_key(session, &new_id).await {
                                Ok(key) => Some(key),
                                Err(e) => {
                                    tracing::warn!(session, error = %e, "could not store a rejoin key; this viewer will rejoin as someone new");
                                    None
                                }
                            }
                        } else {
                            None
                        };
                        let welcome = ServerMsg::Welcome {
                            protocol: PROTOCOL_VERSION,
                            member: updated.value.clone(),
                            session: updated.session,
                            server_time: now_ms(),
                            member_key,
                        };
                        send(sink, &welcome).await?;
                        return Ok(Some((updated.value, sign_in)));
                    }
                    Err(e) => send(sink, &store_error(None, &e)).await?,
                }
            }
            ClientMsg::Ping { t0 } => send(sink, &pong(t0, received_at)).await?,
            _ => {
                let msg = ServerMsg::error(None, ErrorCode::NotJoined, "Say hello first.");
                send(sink, &msg).await?;
            }
        }
    }
    Ok(None)
}

/// Maps a failed session update to the client's error.
fn store_error(id: Option<u64>, e: &SessionStoreError) -> ServerMsg {
    match e {
        SessionStoreError::Rejected(SessionError::StaleVersion { current }) => ServerMsg::Error {
            id,
            code: ErrorCode::StaleVersion,
            message: e.to_string(),
            version: Some(*current),
        },
        SessionStoreError::Rejected(SessionError::NotAllowed(why)) => {
            ServerMsg::error(id, ErrorCode::Forbidden, why.clone())
        }
        SessionStoreError::Rejected(inner) => {
            ServerMsg::error(id, ErrorCode::InvalidCommand, inner.to_string())
        }
        SessionStoreError::NotFound(_) => {
            ServerMsg::error(id, ErrorCode::UnknownSession, "This session has ended.")
        }
        other => {
            let reference = app::ssr::errors::log_internal("session update", other);
            ServerMsg::error(
                id,
                ErrorCode::Unavailable,
                format!("The server could not save that; try again (reference {reference})."),
            )
        }
    }
}

impl Viewer<'_> {
    async fn handle(
        &mut self,
        sink: &mut Sink,
        text: &str,
        received_at: f64,
    ) -> Result<(), axum::Error> {
        let msg = match self.gate.admit(text) {
            Ok(msg) => msg,
            Err(Some(reply)) => return send(sink, &reply).await,
            Err(None) => return Ok(()),
        };
        match msg {
            ClientMsg::Ping { t0 } => send(sink, &pong(t0, received_at)).await,
            ClientMsg::Command {
                id,
                base_version,
                command,
            } => {
                metrics::counter!("marquee_sync_commands_total").increment(1);
                let member = self.member.clone();
                let result = self
                    .hub
                    .sessions()
                    .update(self.session, Some(member.as_str()), |s| {
                        // The value is whether the command was a replay, acknowledged again.
                        Ok(
                            match s.admit_command(&member, id, base_version, &command, now_ms())? {
                                Admitted::Applied(changes) => (changes, false),
                                Admitted::Duplicate => (Vec::new(), true),
                            },
                        )
                    })
                    .await;
                let reply = match result {
                    Ok(u) => {
                        if !u.value {
                            let name = u
                                .session
                                .members
                                .iter()
                                .find(|m| m.id == member)
                                .map_or_else(|| member.to_string(), |m| m.name.clone());
                            self.hub.sessions().store().record_audit_later(
                                marquee_store::NewAuditEvent::command(
                                    self.session,
                                    &member,
                                    &name,
                                    &command,
                                ),
                            );
                        }
                        ServerMsg::Ack {
                            id,
                            version: u.session.version,
                            duplicate: u.value,
                        }
                    }
                    Err(e) => store_error(Some(id), &e),
                };
                send(sink, &reply).await
            }
            ClientMsg::Drift { drift_ms } => {
                // Only a sane number is worth a bucket; nothing is stored.
                if drift_ms.is_finite() && drift_ms.abs() < 3_600_000.0 {
                    metrics::histogram!("marquee_sync_drift_seconds")
                        .record(drift_ms.abs() / 1000.0);
                }
                Ok(())
            }
            ClientMsg::Status { buffering, rtt_ms } => {
                let member = self.member.clone();
                let result = self
                    .hub
                    .sessions()
                    .update(self.session, Some(member.as_str()), |s| {
                        Ok((s.report(&member, buffering, rtt_ms, now_ms())?, ()))
                    })
                    .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(e) => send(sink, &store_error(None, &e)).await,
                }
            }
            ClientMsg::Resync => self.snapshot(sink).await,
            ClientMsg::Hello { .. } => {
                let msg = ServerMsg::error(
                    None,
                    ErrorCode::Malformed,
                    "Already joined; hello is only sent once.",
                );
                send(sink, &msg).await
            }
        }
    }

    /// Sends the whole session again (after a gap or on request).
    async fn snapshot(&self, sink: &mut Sink) -> Result<(), axum::Error> {
        match self.hub.sessions().get(self.session).await {
            Ok(Some(session)) => {
                let msg = ServerMsg::Welcome {
                    protocol: PROTOCOL_VERSION,
                    member: self.member.clone(),
                    session,
                    server_time: now_ms(),
                    member_key: None,
                };
                send(sink, &msg).await
            }
            Ok(None) => {
                send(
                    sink,
                    &ServerMsg::error(None, ErrorCode::UnknownSession, "This session has ended."),
                )
                .await
            }
            Err(e) => send(sink, &store_error(None, &e)).await,
        }
    }
}
