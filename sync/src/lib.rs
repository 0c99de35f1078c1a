//! Marquee's shared-session domain.
//!
//! Everything that decides *what* a watch session is and *how* its viewers stay together lives
//! here, free of web, database and runtime types, so the server (which owns the truth) and the
//! WASM player (which follows it) run the same code:
//!
//! - [`session`]: the session model (members, queue, playback against server time) and the
//!   rules that turn commands into changes.
//! - [`protocol`]: the typed, versioned WebSocket messages.
//! - [`clock`]: NTP-style offset/delay estimation between a client and the server.
//! - [`drift`]: how a player absorbs drift with gentle rate changes and seeks only when it must.
//!
//! Times are milliseconds since the Unix epoch on the server's clock (`f64`, so sub-millisecond
//! clock estimates survive); media positions are seconds.

pub mod clock;
pub mod drift;
pub mod protocol;
pub mod session;

pub use clock::{ClockEstimator, ClockSample};
pub use drift::{Correction, DriftConfig, DriftController};
pub use protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
pub use session::{
    Actor, Change, Command, Control, Member, MemberId, Playback, QueueEntry, Role, Session,
    SessionError, Timeline, Wait, WaitReason,
};
