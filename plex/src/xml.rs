//! Turns Plex XML into the JSON shape the models read.
//!
//! Plex answers XML when `Accept: application/json` is lost (some reverse proxies strip it, old
//! servers ignore it). Rather than a second set of models, the element tree is rewritten into
//! the JSON layout: attributes become (string) fields, child elements become arrays named as in
//! JSON (`Video`/`Track`/`Photo` and item-like `Directory` → `Metadata`).

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

/// Why an XML body could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// The document is not well-formed.
    #[error("invalid XML: {0}")]
    Syntax(String),
    /// The document has no `MediaContainer` root.
    #[error("XML has no MediaContainer root element")]
    NoContainer,
    /// Elements are nested deeper than [`MAX_DEPTH`].
    #[error("XML is nested deeper than {MAX_DEPTH} elements")]
    TooDeep,
}

/// Deepest element nesting accepted. Real answers are a handful of levels deep
/// (`MediaContainer` › `Hub` › `Video` › `Media` › `Part` › `Stream`); the limit is the one
/// `serde_json` sets for JSON answers. Without it a deeply nested body (a megabyte of `<a>`)
/// builds a `Value` so deep that dropping or deserializing it recurses until the thread's stack
/// overflows, which aborts the whole server (found with the `plex_xml` fuzz target).
pub const MAX_DEPTH: usize = 128;

struct Node {
    name: String,
    fields: Map<String, Value>,
}

fn start_node(e: &BytesStart<'_>) -> Result<Node, XmlError> {
    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
    let mut fields = Map::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| XmlError::Syntax(err.to_string()))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = attr
            .unescape_value()
            .map_err(|err| XmlError::Syntax(err.to_string()))?
            .into_owned();
        fields.insert(key, Value::String(value));
    }
    Ok(Node { name, fields })
}

/// The JSON array a child element belongs in.
fn array_key(child: &Node) -> String {
    match child.name.as_str() {
        "Video" | "Track" | "Photo" => "Metadata".to_string(),
        // Shows and seasons are `Directory` elements in XML but `Metadata` in JSON listings;
        // sections and "All episodes" have no ratingKey and stay `Directory`.
        "Directory" if child.fields.contains_key("ratingKey") => "Metadata".to_string(),
        other => other.to_string(),
    }
}

fn attach(parent: &mut Node, child: Node) {
    let key = array_key(&child);
    let entry = parent
        .fields
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = entry {
        items.push(Value::Object(child.fields));
    }
}

/// Convert a Plex XML document into `{"MediaContainer": {...}}`.
pub fn to_json(xml: &str) -> Result<Value, XmlError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        match reader
            .read_event()
            .map_err(|err| XmlError::Syntax(err.to_string()))?
        {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                stack.push(start_node(&e)?);
            }
            Event::Empty(e) => {
                let node = start_node(&e)?;
                match stack.last_mut() {
                    Some(parent) => attach(parent, node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| XmlError::Syntax("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(parent) => attach(parent, node),
                    None => root = Some(node),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Syntax("unexpected end of document".into()));
    }
    match root {
        Some(node) if node.name == "MediaContainer" => {
            let mut out = Map::new();
            out.insert("MediaContainer".into(), Value::Object(node.fields));
            Ok(Value::Object(out))
        }
        _ => Err(XmlError::NoContainer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `depth` nested elements inside the container, each `<Video>` with a rating key.
    fn nested(depth: usize) -> String {
        format!(
            "<MediaContainer>{}{}</MediaContainer>",
            "<Video ratingKey=\"1\">".repeat(depth),
            "</Video>".repeat(depth)
        )
    }

    #[test]
    fn a_deeply_nested_document_is_refused_not_a_stack_overflow() {
        // Before the depth limit this overflowed the test thread's stack (and aborted the
        // process) while the converted value was dropped.
        assert!(matches!(to_json(&nested(200_000)), Err(XmlError::TooDeep)));
        assert!(matches!(
            crate::parse_metadata_list(nested(200_000).as_bytes(), Some("text/xml")),
            Err(crate::PlexError::Malformed { .. })
        ));
    }

    #[test]
    fn nesting_up_to_the_limit_converts() {
        assert!(to_json(&nested(MAX_DEPTH - 1)).is_ok());
        assert!(matches!(
            to_json(&nested(MAX_DEPTH)),
            Err(XmlError::TooDeep)
        ));
    }
}
