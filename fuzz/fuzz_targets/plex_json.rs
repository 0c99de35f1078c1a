//! A Plex answer body, parsed as `PlexClient` parses it, for every response type it reads.
//!
//! Checks: no parser panics on any body (Plex servers, proxies and converters send odd things,
//! and a panic would take a request down); and a listing's items, serialized to JSON as the
//! app's cache stores them, load back through the same lenient rules to the same items (a
//! cached value that does not load again would be a cache that never hits, or an error page),
//! as they do when wrapped in a listing again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_plex::fuzzing::{parse_decision, parse_identity, parse_sections};
use marquee_plex::{Metadata, parse_metadata_list};
use serde_json::{Value, json};

/// Items as JSON values, the form the cache keeps them in.
fn values(items: &[Metadata]) -> Value {
    serde_json::to_value(items).expect("items serialize")
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the Content-Type the server announced.
    let Some((&ct, body)) = data.split_first() else {
        return;
    };
    let content_type = match ct % 3 {
        0 => None,
        1 => Some("application/json"),
        _ => Some("text/json; charset=utf-8"),
    };
    let _ = parse_identity(body, content_type);
    let _ = parse_sections(body, content_type);
    let _ = parse_decision(body, content_type);
    let Ok(items) = parse_metadata_list(body, content_type) else {
        return;
    };

    // The cache's round trip (marquee-store's cache keeps values as `serde_json::to_vec` and
    // reads them with `from_slice`): the items must come back the same.
    let cached = serde_json::to_vec(&items).expect("items serialize");
    let again: Vec<Metadata> = serde_json::from_slice(&cached)
        .unwrap_or_else(|e| panic!("cached items do not load again: {e}"));
    assert_eq!(
        values(&again),
        values(&items),
        "cached items changed on reload"
    );

    // The same items as a Plex listing (a converter or a newer server echoing our own JSON) read
    // the same through the listing parser.
    let body = serde_json::to_vec(&json!({ "MediaContainer": { "Metadata": values(&items) } }))
        .expect("serializes");
    let listed = parse_metadata_list(&body, Some("application/json"))
        .unwrap_or_else(|e| panic!("re-listed items do not parse: {e}"));
    assert_eq!(values(&listed), values(&items), "re-listed items changed");
});
