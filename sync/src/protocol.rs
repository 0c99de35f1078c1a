//! The WebSocket protocol between a viewer and the server: typed, versioned JSON messages.
//!
//! Every message is an object with a `type` tag. A connection must open with
//! [`ClientMsg::Hello`]; the server answers [`ServerMsg::Welcome`] with a full snapshot, then
//! streams [`ServerMsg::Event`]s, each carrying the session version it produced. A client that
//! sees a version gap sends [`ClientMsg::Resync`] and gets a fresh snapshot. Commands carry a
//! per-connection id (for [`ServerMsg::Ack`] / [`ServerMsg::Error`]) and the version the sender
//! last saw.

use serde::{Deserialize, Serialize};

use crate::member::MemberId;
use crate::session::{Actor, Change, Command, Session};

/// Bumped on any incompatible change; the server refuses other versions with a clear error.
pub const PROTOCOL_VERSION: u16 = 1;
/// Largest message the server accepts; real messages are a few hundred bytes.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024;
/// Sustained messages per second one connection may send…
pub const RATE_PER_SEC: f64 = 20.0;
/// …with bursts up to this many.
pub const RATE_BURST: f64 = 40.0;

/// WebSocket close codes the server ends a connection with, and what each tells the client.
///
/// 4000–4999 are the application's own; the 1000s are the standard codes Marquee uses. The
/// server sends the matching [`ServerMsg::Error`] just before closing, for the message.
pub mod close {
    /// No session with this id (or it has ended): do not reconnect.
    pub const UNKNOWN_SESSION: u16 = 4404;
    /// The client speaks another protocol version: reload the page, do not reconnect.
    pub const PROTOCOL: u16 = 4400;
    /// No hello in time: reconnect.
    pub const TIMEOUT: u16 = 4408;
    /// The hello's access token expired or is not valid: refresh it, then reconnect.
    pub const SIGN_IN_EXPIRED: u16 = 4401;
    /// Guests are off and the viewer is not signed in: sign in first, do not reconnect.
    pub const SIGN_IN_REQUIRED: u16 = 4403;
    /// The server could not load the session: reconnect with backoff.
    pub const UNAVAILABLE: u16 = 1011;
    /// The server is restarting: reconnect with backoff.
    pub const SERVICE_RESTART: u16 = 1012;
}

/// Viewer → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Join the session (or rejoin as `member`, the id a previous Welcome gave).
    Hello {
        protocol: u16,
        name: String,
        #[serde(default)]
        member: Option<MemberId>,
        /// The rejoin key that Welcome (or the session's creation) gave this browser for
        /// `member`. An anonymous `member` without its key is not rejoined: member ids are
        /// public, so the id alone would let anyone take a member's place.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member_key: Option<String>,
        /// A Marquee access token, from pages without cookies (the Discord Activity runs in a
        /// third-party iframe, where browsers withhold them).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
    },
    /// Clock sync: `t0` is the client's send time.
    Ping { t0: f64 },
    /// A change to the session. `id` increases per member; `base_version` is the version the
    /// sender last saw.
    Command {
        id: u64,
        base_version: u64,
        command: Command,
    },
    /// The player stalled/loaded (`buffering`), and the current clock round trip.
    Status {
        buffering: bool,
        #[serde(default)]
        rtt_ms: Option<f64>,
    },
    /// Send me a full snapshot (after a version gap).
    Resync,
    /// How far this viewer's video is from the group's line (ms, ahead positive), sent now and
    /// then while playing: only for the operator's metrics, never stored.
    Drift { drift_ms: f64 },
}

/// Server → viewer.
// A message lives only between parsing and use (or building and sending), one at a time: the
// size of the `Welcome` snapshot costs nothing worth a `Box` at every use.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The answer to Hello or Resync: who you are and the whole session.
    Welcome {
        protocol: u16,
        member: MemberId,
        session: Session,
        server_time: f64,
        /// A new anonymous member's rejoin key, sent to its own connection only: keep it with
        /// `member` and send both in the next Hello.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member_key: Option<String>,
    },
    /// Clock sync reply: `t1` receipt and `t2` send time on the server clock.
    Pong { t0: f64, t1: f64, t2: f64 },
    /// The session changed to `version`; `by` is who did it (none for automatic changes).
    Event {
        version: u64,
        by: Option<Actor>,
        changes: Vec<Change>,
    },
    /// Command `id` was applied (or had already been: `duplicate`).
    Ack {
        id: u64,
        version: u64,
        #[serde(default)]
        duplicate: bool,
    },
    /// Something you sent was refused; nothing changed. The connection stays open unless the
    /// code says the session is gone or the protocol does not match.
    Error {
        #[serde(default)]
        id: Option<u64>,
        code: ErrorCode,
        message: String,
        #[serde(default)]
        version: Option<u64>,
    },
}

/// Machine-readable reason for a [`ServerMsg::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not JSON, or not a message this protocol knows.
    Malformed,
    /// Over [`MAX_MESSAGE_BYTES`].
    TooLarge,
    /// The client speaks another protocol version.
    UnsupportedProtocol,
    /// No session with this id.
    UnknownSession,
    /// A message other than Hello before joining.
    NotJoined,
    /// The command was based on an older version than the session's.
    StaleVersion,
    /// Too many messages; slow down.
    RateLimited,
    /// The command is not valid now (see the message).
    InvalidCommand,
    /// The server could not store the change; try again.
    Unavailable,
    /// The member may not do this here (see the message: who may).
    Forbidden,
    /// The Hello's access token has expired or is not valid: refresh it and reconnect.
    SignInExpired,
    /// This server admits only viewers signed in with Discord (guests are off).
    SignInRequired,
}

impl ServerMsg {
    /// An error reply for a command id (or none).
    pub fn error(id: Option<u64>, code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMsg::Error {
            id,
            code,
            message: message.into(),
            version: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_is_stable() {
        let hello: ClientMsg =
            serde_json::from_str(r#"{"type":"hello","protocol":1,"name":"Ana"}"#).expect("hello");
        assert_eq!(
            hello,
            ClientMsg::Hello {
                protocol: 1,
                name: "Ana".into(),
                member: None,
                member_key: None,
                token: None,
            }
        );
        let cmd: ClientMsg = serde_json::from_str(
            r#"{"type":"command","id":3,"base_version":7,"command":{"op":"seek","position":12.5}}"#,
        )
        .expect("command");
        assert_eq!(
            cmd,
            ClientMsg::Command {
                id: 3,
                base_version: 7,
                command: Command::Seek { position: 12.5 }
            }
        );
        let err = serde_json::to_string(&ServerMsg::error(Some(3), ErrorCode::StaleVersion, "x"))
            .expect("json");
        assert_eq!(
            err,
            r#"{"type":"error","id":3,"code":"stale_version","message":"x","version":null}"#
        );
    }

    #[test]
    fn floats_round_trip_exactly() {
        // Found by the `ws_client_message` fuzz target: without serde_json's `float_roundtrip`
        // (set in the workspace's Cargo.toml), `1.7000000001037023e18` read back one unit in
        // the last place higher than the number that was printed.
        let sent: ClientMsg =
            serde_json::from_str(r#"{"type":"ping","t0":1700000000103702325}"#).expect("ping");
        assert_eq!(
            sent,
            ClientMsg::Ping {
                t0: 1.700_000_000_103_702_3e18
            }
        );
        let wire = serde_json::to_string(&sent).expect("json");
        let back: ClientMsg = serde_json::from_str(&wire).expect("parse");
        assert_eq!(back, sent, "{wire}");
    }

    #[test]
    fn unknown_messages_do_not_parse() {
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"nuke"}"#).is_err());
        assert!(
            serde_json::from_str::<ClientMsg>(
                r#"{"type":"command","id":1,"base_version":0,"command":{"op":"explode"}}"#
            )
            .is_err()
        );
    }
}
