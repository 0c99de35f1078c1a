//! A Plex answer in XML (when a proxy dropped `Accept: application/json`), parsed as
//! `PlexClient` parses it.
//!
//! Checks: neither the XML-to-JSON rewrite nor the typed parsers behind it panic or overflow
//! the stack on any document; an accepted document becomes `{"MediaContainer": {...}}` whose
//! attributes are all strings and whose children are all arrays of objects (the layout the
//! lenient models read); and the typed parsers agree with the rewrite: a body the rewrite
//! refuses is refused by them too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_plex::fuzzing::{parse_decision, parse_identity, parse_sections, xml_to_json};
use marquee_plex::parse_metadata_list;
use serde_json::Value;

/// Attributes are strings, child elements arrays of objects of the same shape. Walks with its
/// own stack, so a deep document tests the parser's depth, not this check's.
fn check_node(root: &serde_json::Map<String, Value>) {
    let mut todo = vec![root];
    while let Some(fields) = todo.pop() {
        for (key, value) in fields {
            match value {
                Value::String(_) => {}
                Value::Array(children) => {
                    for child in children {
                        match child {
                            Value::Object(child) => todo.push(child),
                            other => panic!("{key}: child {other} is not an element"),
                        }
                    }
                }
                other => panic!("{key}: {other} is neither an attribute nor children"),
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let converted = xml_to_json(text);
    if let Ok(value) = &converted {
        let root = value.as_object().expect("an object");
        assert_eq!(root.len(), 1);
        match root.get("MediaContainer") {
            Some(Value::Object(container)) => check_node(container),
            other => panic!("no MediaContainer object: {other:?}"),
        }
    }
    let ct = Some("application/xml");
    let typed = [
        parse_identity(data, ct).is_ok(),
        parse_sections(data, ct).is_ok(),
        parse_metadata_list(data, ct).is_ok(),
        parse_decision(data, ct).is_ok(),
    ];
    if converted.is_err() {
        assert_eq!(typed, [false; 4], "accepted what the rewrite refused");
    }
});
