//! The sessions the unit tests start from.

use super::model::{Member, Role, Session};

pub(crate) fn member(id: &str, name: &str) -> Member {
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

pub(crate) fn session() -> Session {
    let mut s = Session::new(
        "s1",
        member("ana", "Ana"),
        ("101".into(), "Harbor Lights".into()),
        1_000.0,
    )
    .expect("valid");
    s.join(None, "ben", "Ben", 2_000.0).expect("join");
    s
}

/// A session `/play` started: Ana is host, driving from Discord, not on the page.
pub(crate) fn hosted_from_discord() -> Session {
    let mut s = Session::new(
        "s2",
        Member {
            connections: 0,
            ..member("discord-1", "Ana")
        },
        ("101".into(), "Harbor Lights".into()),
        1_000.0,
    )
    .expect("valid");
    s.host_elsewhere = true;
    s
}
