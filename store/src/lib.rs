//! Marquee's persistence and cache.
//!
//! [`Store`] keeps durable state (users, watch sessions, preferences and a second-level cache
//! of Plex metadata) in SQLite for single-box installs or PostgreSQL for shared deployments,
//! behind one API so callers never care which. [`Cache`] is the hot, expiring layer in front
//! of Plex: in-process by default, Redis when several processes must share it.

pub mod cache;
pub mod db;
pub mod secret;
pub mod sessions;
#[cfg(feature = "test-support")]
pub mod testing;

pub use cache::{Cache, CacheError, CacheFetchError, CacheStats, Tier, TierTtls};
pub use db::{
    AuditEvent, AuditFilter, Backend, ChannelLink, DatabaseTarget, NewAuditEvent, NewChannelLink,
    NewMemberKey, NewRefreshToken, NewSession, PlexAccountRow, Rotation, SessionRow, Store,
    StoreError, User, redact_url,
};
pub use sessions::{Bus, BusError, SessionEvent, SessionStore, SessionStoreError, Updated};
