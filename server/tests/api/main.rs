//! The server's integration tests, as one binary so that the server and its dependencies are
//! linked once rather than once per file. [`helpers`] starts real Marquee servers; every other
//! module is one area of behaviour, most of it checked in both storage modes (`both_modes!`).
//!
//! Scale-out tests need PostgreSQL and Redis (`marquee_store::testing` says where it looks for
//! them) and fail, never skip, without them.
// Test code: a failed `unwrap` is a failed test, with the line that failed.
#![allow(clippy::unwrap_used)]

mod helpers;

mod activity;
mod attacks;
mod auth;
mod bot;
mod bot_secrets;
mod errors;
mod http;
mod operations;
mod plex_link;
mod previews;
mod progress;
mod security;
mod shutdown;
mod sync;
mod tracks;
mod transcode;
