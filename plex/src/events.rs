//! Plex's notification socket (`/:/websockets/notifications`). The server announces library
//! changes the moment they happen (a newly scanned file, an edited or deleted item, a section
//! scan ending), so Marquee drops what it cached instead of showing the old library until a
//! TTL runs out.

use futures::{Stream, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

use crate::{PlexClient, PlexError};

/// A change in the library, as far as what Marquee caches is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryChange {
    /// An item was added, changed or deleted; `section` when Plex says which.
    Item {
        section: Option<String>,
        item: String,
    },
    /// A section finished a scan or a refresh.
    Section { section: String },
}

/// Timeline entry states that mean an item's metadata is final: 5 processed, 9 deleted
/// (0–4 are the steps of a scan in progress).
const SETTLED_STATES: [i64; 2] = [5, 9];

/// The library changes in one notification (`{"NotificationContainer": …}`). Anything else
/// the server sends (playback, transcoder progress, status messages) is none of them.
pub fn parse_notification(text: &str) -> Vec<LibraryChange> {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let container = &message["NotificationContainer"];
    let entries = |name: &str| container[name].as_array().cloned().unwrap_or_default();
    let mut changes = Vec::new();
    for entry in entries("TimelineEntry") {
        let library = entry["identifier"].as_str() == Some("com.plexapp.plugins.library");
        let settled = number(&entry["state"]).is_some_and(|s| SETTLED_STATES.contains(&s));
        if let (true, true, Some(item)) = (library, settled, key(&entry["itemID"])) {
            changes.push(LibraryChange::Item {
                section: key(&entry["sectionID"]),
                item,
            });
        }
    }
    for entry in entries("ActivityNotification") {
        let activity = &entry["Activity"];
        let kind = activity["type"].as_str().unwrap_or_default();
        let ended = entry["event"].as_str() == Some("ended");
        if ended
            && kind.starts_with("library.")
            && let Some(section) = key(&activity["Context"]["librarySectionID"])
        {
            changes.push(LibraryChange::Section { section });
        }
    }
    changes
}

/// The library change in a Plex webhook's `payload` (the JSON part of its multipart body):
/// `library.new` (an item added) and `library.on.deck` (the continue-watching row moved).
/// Playback events (`media.play`, `media.stop`, …) change nothing Marquee caches.
pub fn parse_webhook(payload: &str) -> Option<LibraryChange> {
    let message: Value = serde_json::from_str(payload).ok()?;
    let event = message["event"].as_str()?;
    if !matches!(event, "library.new" | "library.on.deck") {
        return None;
    }
    let meta = &message["Metadata"];
    Some(LibraryChange::Item {
        section: key(&meta["librarySectionID"]),
        item: key(&meta["ratingKey"])?,
    })
}

/// A number Plex may send as a number or a string.
fn number(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// A Plex key (item or section id) from a number or a string; negative ids ("-1": no section)
/// and anything that is not a Plex key are none.
fn key(v: &Value) -> Option<String> {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    marquee_sync::ids::is_plex_key(&text)
        .then_some(text)
        .filter(|t| !t.starts_with('-'))
}

impl PlexClient {
    /// Connects to the server's notification socket. The stream gives the library changes it
    /// announces and ends when the connection does (the caller reconnects).
    pub async fn library_changes(
        &self,
    ) -> Result<impl Stream<Item = LibraryChange> + Send + 'static, PlexError> {
        let socket = self.open_notifications().await?;
        Ok(socket
            .take_while(|m| std::future::ready(m.is_ok()))
            .filter_map(|m| {
                std::future::ready(match m {
                    Ok(Message::Text(text)) => Some(parse_notification(text.as_str())),
                    _ => None,
                })
            })
            .flat_map(futures::stream::iter))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_scanned_item_and_a_finished_scan_are_changes() {
        let created = r#"{"NotificationContainer":{"type":"timeline","size":1,"TimelineEntry":[{"identifier":"com.plexapp.plugins.library","sectionID":"3","itemID":"40001","type":1,"title":"New","state":0}]}}"#;
        assert!(parse_notification(created).is_empty(), "still scanning");
        let done = r#"{"NotificationContainer":{"type":"timeline","size":1,"TimelineEntry":[{"identifier":"com.plexapp.plugins.library","sectionID":3,"itemID":40001,"type":1,"state":5}]}}"#;
        assert_eq!(
            parse_notification(done),
            vec![LibraryChange::Item {
                section: Some("3".into()),
                item: "40001".into()
            }]
        );
        let deleted_nowhere = r#"{"NotificationContainer":{"type":"timeline","TimelineEntry":[{"identifier":"com.plexapp.plugins.library","sectionID":"-1","itemID":"7","state":"9"}]}}"#;
        assert_eq!(
            parse_notification(deleted_nowhere),
            vec![LibraryChange::Item {
                section: None,
                item: "7".into()
            }]
        );
        let scan = r#"{"NotificationContainer":{"type":"activity","size":1,"ActivityNotification":[{"event":"ended","uuid":"u","Activity":{"type":"library.update.section","Context":{"librarySectionID":"2"}}}]}}"#;
        assert_eq!(
            parse_notification(scan),
            vec![LibraryChange::Section {
                section: "2".into()
            }]
        );
    }

    #[test]
    fn webhooks_for_new_items_are_changes_and_playback_is_not() {
        let new = r#"{"event":"library.new","user":true,"owner":true,"Server":{"title":"Home"},"Metadata":{"librarySectionType":"show","ratingKey":"1936","key":"/library/metadata/1936","librarySectionID":2,"type":"episode","title":"Pilot"}}"#;
        assert_eq!(
            parse_webhook(new),
            Some(LibraryChange::Item {
                section: Some("2".into()),
                item: "1936".into()
            })
        );
        for payload in [
            r#"{"event":"media.play","Metadata":{"ratingKey":"1936","librarySectionID":2}}"#,
            r#"{"event":"library.new","Metadata":{}}"#,
            r#"{"event":"library.new"}"#,
            "{",
            "",
        ] {
            assert_eq!(parse_webhook(payload), None, "{payload}");
        }
    }

    #[test]
    fn everything_else_is_ignored() {
        for text in [
            "",
            "not json",
            "[]",
            r#"{"NotificationContainer":{"type":"playing","PlaySessionStateNotification":[{"sessionKey":"1","state":"playing"}]}}"#,
            r#"{"NotificationContainer":{"type":"activity","ActivityNotification":[{"event":"started","Activity":{"type":"library.update.section","Context":{"librarySectionID":"2"}}}]}}"#,
            r#"{"NotificationContainer":{"type":"timeline","TimelineEntry":[{"identifier":"com.plexapp.system","itemID":"1","state":5}]}}"#,
            r#"{"NotificationContainer":{"type":"timeline","TimelineEntry":[{"identifier":"com.plexapp.plugins.library","itemID":"../etc","state":5}]}}"#,
            r#"{"NotificationContainer":{"TimelineEntry":"not a list"}}"#,
        ] {
            assert!(parse_notification(text).is_empty(), "{text}");
        }
    }
}
