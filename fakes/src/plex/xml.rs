//! XML rendering of Plex JSON, for clients that do not send `Accept: application/json`.
//!
//! Real Plex answers XML by default with every attribute a string; the client must cope, so
//! the fake renders the same JSON tree that way.

use serde_json::Value;

/// Render `{"MediaContainer": …}`'s inner object as an XML document.
pub fn render_container(container: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    element(&mut out, "MediaContainer", container);
    out
}

fn element_name<'a>(array_key: &'a str, item: &Value) -> &'a str {
    if array_key != "Metadata" {
        return array_key;
    }
    match item.get("type").and_then(Value::as_str) {
        Some("movie" | "episode" | "clip") => "Video",
        Some("track") => "Track",
        Some("photo") => "Photo",
        _ => "Directory",
    }
}

fn element(out: &mut String, name: &str, value: &Value) {
    out.push('<');
    out.push_str(name);
    let mut children = Vec::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            match v {
                Value::Array(items) => children.push((k.as_str(), items)),
                Value::Object(_) | Value::Null => {}
                Value::String(s) => attr(out, k, s),
                Value::Bool(b) => attr(out, k, if *b { "1" } else { "0" }),
                Value::Number(n) => attr(out, k, &n.to_string()),
            }
        }
    }
    if children.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    for (key, items) in children {
        for item in items {
            if item.is_object() {
                element(out, element_name(key, item), item);
            }
        }
    }
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

fn attr(out: &mut String, key: &str, value: &str) {
    out.push(' ');
    out.push_str(key);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_videos_and_directories_with_string_attributes() {
        let xml = render_container(&json!({
            "size": 2,
            "Metadata": [
                {"type": "movie", "title": "A & B", "Media": [{"id": 1}]},
                {"type": "show", "title": "S"}
            ]
        }));
        assert!(xml.contains("<MediaContainer size=\"2\">"));
        assert!(xml.contains("<Video title=\"A &amp; B\" type=\"movie\">"));
        assert!(xml.contains("<Media id=\"1\"/>"));
        assert!(xml.contains("<Directory title=\"S\" type=\"show\"/>"));
    }
}
