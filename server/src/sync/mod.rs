//! The WebSocket sync hub: one endpoint per watch session, speaking `marquee_sync::protocol`.
//!
//! - [`hub`]: rooms of local connections per session, fed by the session event bus (so events
//!   from any process reach every viewer), and the timers that end a buffering wait.
//! - [`planner`]: per room, asks Plex about queued items (length, markers, next episode) and
//!   acts when the group reaches a milestone (an intro to skip, "Up next", the end).
//! - [`progress`]: what the group watches, told to Plex as one player (timeline, scrobble).
//! - [`connection`]: one viewer's socket: join, clock pings, commands, reports, errors.
//! - [`rate_limit`]: the per-connection token bucket.
//! - [`sockets`]: how many sockets may be open, per address and in all.

pub mod connection;
pub mod hub;
pub mod planner;
pub mod progress;
pub mod rate_limit;
pub mod sockets;

pub use hub::Hub;
pub use sockets::{SocketGate, SocketLimits};

pub use marquee_store::sessions::now_ms;
