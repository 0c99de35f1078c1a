//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, off in the application).
//!
//! The parsers behind [`crate::PlexClient`] are crate-private because callers should only see
//! the typed answers of the client's methods; a fuzzer has no Plex server to answer it, so
//! these hand the same parsers a body directly, one function per response type the client
//! reads (listings already have a public one, [`crate::parse_metadata_list`]).

use serde_json::Value;

use crate::client::parse_body;
use crate::models::{DecisionContainer, SectionList};
use crate::{Identity, Metadata, PlexError, Section, XmlError};

/// The body of `/identity`, as [`crate::PlexClient::identity`] reads it.
pub fn parse_identity(body: &[u8], content_type: Option<&str>) -> Result<Identity, PlexError> {
    parse_body(body, content_type, "identity")
}

/// The body of `/library/sections`, as [`crate::PlexClient::sections`] reads it.
pub fn parse_sections(body: &[u8], content_type: Option<&str>) -> Result<Vec<Section>, PlexError> {
    parse_body::<SectionList>(body, content_type, "sections").map(|list| list.directory)
}

/// A transcode decision: its items (with their Media versions and parts).
pub fn parse_decision(body: &[u8], content_type: Option<&str>) -> Result<Vec<Metadata>, PlexError> {
    parse_body::<DecisionContainer>(body, content_type, "decision").map(|c| c.metadata)
}

/// The XML-to-JSON rewrite on its own.
pub fn xml_to_json(xml: &str) -> Result<Value, XmlError> {
    crate::xml::to_json(xml)
}
