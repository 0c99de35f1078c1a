//! Marquee's shared-session domain.
//!
//! Everything that decides *what* a watch session is and *how* its viewers stay together lives
//! here, free of web, database and runtime types, so the server (which owns the truth) and the
//! WASM player (which follows it) run the same code:
//!
//! - [`session`]: the session model (members, queue, playback against server time) and the
//!   rules that turn commands into changes.
//! - [`ids`] and [`member`]: checked session ids, display names and Plex rating keys, and the
//!   member-id scheme (Discord user or anonymous viewer).
//! - [`protocol`]: the typed, versioned WebSocket messages and close codes.
//! - [`follow`]: how a viewer's copy of the session follows the server's events.
//! - [`clock`]: NTP-style offset/delay estimation between a client and the server.
//! - [`drift`]: how a player absorbs drift with gentle rate changes and seeks only when it must.
//!
//! Times are milliseconds since the Unix epoch on the server's clock (`f64`, so sub-millisecond
//! clock estimates survive); media positions are seconds.

pub mod clock;
pub mod drift;
pub mod follow;
pub mod ids;
pub mod member;
pub mod protocol;
pub mod session;

pub use clock::{ClockEstimator, ClockSample};
pub use drift::{Correction, DriftConfig, DriftController};
pub use ids::{DisplayName, RatingKey, SessionId};
pub use member::{MemberId, MemberKind};
pub use protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg};
pub use session::{
    Actor, Admitted, Change, Command, Control, Countdown, Ending, EntryInfo, Marker, MarkerKind,
    Member, Next, Options, Playback, QueueEntry, Role, Session, SessionError, Suggestion, Timeline,
    Wait, WaitReason,
};
