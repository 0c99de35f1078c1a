//! What the browser remembers between visits: the viewer's display name and, per session, the
//! member id to rejoin as with its rejoin key (so a reload or a reconnect is the same person).
//! No-ops on the server.

const NAME_KEY: &str = "marquee.name";

fn member_slot(session: &str) -> String {
    format!("marquee.member.{session}")
}

fn key_slot(session: &str) -> String {
    format!("marquee.member_key.{session}")
}

use crate::storage::{get, remove, set};

/// The display name used last time, if any.
pub fn name() -> Option<String> {
    get(NAME_KEY).filter(|n| !n.trim().is_empty())
}

pub fn set_name(name: &str) {
    set(NAME_KEY, name);
}

/// The member id this browser has in `session` and its rejoin key, if it joined before.
pub fn member(session: &str) -> Option<(String, Option<String>)> {
    let member = get(&member_slot(session))?;
    Some((member, get(&key_slot(session))))
}

/// Remembers `member` for `session`, with its key when the server gave one (a rejoin keeps the
/// key already stored; another member's key is forgotten).
pub fn set_member(session: &str, member: &str, key: Option<&str>) {
    let previous = get(&member_slot(session));
    set(&member_slot(session), member);
    match key {
        Some(key) => set(&key_slot(session), key),
        None if previous.as_deref() != Some(member) => remove(&key_slot(session)),
        None => {}
    }
}
