#![recursion_limit = "256"]
//! Marquee's web server: configuration, start-up and the HTTP routes around the Leptos app.
//!
//! `main.rs` only parses the command line; everything else is here so tests can start a real
//! server on a free port with [`startup::spawn`].

pub mod access;
pub mod auth;
pub mod chunks;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod demo;
pub mod discord;
pub mod error;
pub mod limits;
pub mod plex_events;
pub mod previews;
pub mod routes;
pub mod security;
pub mod shutdown;
pub mod site;
pub mod startup;
pub mod state;
pub mod subtitles;
pub mod sync;
pub mod telemetry;
pub mod transcodes;
