//! A WebSocket text frame from a viewer, parsed as the server parses it.
//!
//! Checks: parsing never panics; a message that parses serializes and parses back to the same
//! message (the browser builds these with `serde_json` too, so the two directions must agree);
//! and a parsed command, admitted to a small session as the server would, either changes the
//! session by one version or leaves it exactly as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_sync::protocol::{ClientMsg, MAX_MESSAGE_BYTES};
use marquee_sync::session::{Admitted, Member, Role, Session};

fn member(id: &str, name: &str) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        role: Role::Viewer,
        connections: 1,
        buffering: false,
        joined_at: 0.0,
        last_command: 0,
        rtt_ms: 0.0,
        left_at: 0.0,
    }
}

/// Ana (host) and Ben watching one queued item, as after a session's creation and one join.
fn session() -> Session {
    let mut s = Session::new(
        "s1",
        member("ana", "Ana"),
        ("101".into(), "Harbor Lights".into()),
        1_000.0,
    )
    .expect("a valid session");
    s.join(None, "ben", "Ben", 2_000.0).expect("a valid join");
    s
}

fuzz_target!(|data: &[u8]| {
    // The server refuses larger frames before parsing, and text frames are UTF-8.
    if data.len() > MAX_MESSAGE_BYTES {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(msg) = serde_json::from_str::<ClientMsg>(text) else {
        return;
    };

    let wire = serde_json::to_string(&msg).expect("a parsed message serializes");
    let back: ClientMsg = serde_json::from_str(&wire).expect("a serialized message parses");
    assert_eq!(back, msg, "round trip through {wire}");
    assert_eq!(
        serde_json::to_string(&back).expect("serializes"),
        wire,
        "serialization is stable"
    );

    if let ClientMsg::Command {
        id,
        base_version,
        command,
    } = &msg
    {
        let mut s = session();
        for actor in ["ana", "ben", "nobody"] {
            let before = s.clone();
            match s.admit_command(actor, *id, *base_version, command, 10_000.0) {
                Ok(Admitted::Applied(changes)) => {
                    assert_eq!(s.version, before.version + 1, "{command:?}");
                    assert!(!changes.is_empty(), "{command:?}");
                }
                Ok(Admitted::Duplicate) | Err(_) => assert_eq!(s, before, "{command:?}"),
            }
        }
    }
});
