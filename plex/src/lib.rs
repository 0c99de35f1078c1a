//! Typed Plex Media Server client.
//!
//! Marquee's server talks to Plex on behalf of every viewer, so the token stays server-side:
//! this crate sends it as a header, never logs it, and gives the server raw streaming access
//! ([`PlexClient::fetch`]) for proxying media and HLS to browsers.

pub mod bif;
mod client;
mod error;
mod events;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod lenient;
mod models;
pub mod plextv;
mod xml;

pub use client::{
    PlayState, PlexClient, PlexConfig, Timeline, TranscodeDecision, TranscodeRequest, error_chain,
};
pub use error::PlexError;
pub use events::{LibraryChange, parse_notification, parse_webhook};
pub use models::{
    Identity, Marker, Media, Metadata, MetadataType, Page, Part, Section, SectionType, Stream, Tag,
    TimelineAnswer, stream_type,
};
pub use xml::XmlError;

/// Parse a listing body (JSON, or XML when `content_type` says so or the body starts with
/// `<`) into its items. Useful for bodies fetched raw with [`PlexClient::fetch`].
pub fn parse_metadata_list(
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Vec<Metadata>, PlexError> {
    let listing: models::Listing = client::parse_body(body, content_type, "listing")?;
    Ok(listing.into_items())
}

#[cfg(test)]
mod tests;
