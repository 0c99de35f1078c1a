//! What the browser remembers between visits: the viewer's display name and, per session, the
//! member id to rejoin as (so a reload or a reconnect is the same person). No-ops on the server.

const NAME_KEY: &str = "marquee.name";

fn member_key(session: &str) -> String {
    format!("marquee.member.{session}")
}

#[cfg(feature = "hydrate")]
fn get(key: &str) -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

#[cfg(not(feature = "hydrate"))]
fn get(_key: &str) -> Option<String> {
    None
}

#[cfg(feature = "hydrate")]
fn set(key: &str, value: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(key, value);
    }
}

#[cfg(not(feature = "hydrate"))]
fn set(_key: &str, _value: &str) {}

/// The display name used last time, if any.
pub fn name() -> Option<String> {
    get(NAME_KEY).filter(|n| !n.trim().is_empty())
}

pub fn set_name(name: &str) {
    set(NAME_KEY, name);
}

/// The member id this browser has in `session`, if it joined before.
pub fn member(session: &str) -> Option<String> {
    get(&member_key(session))
}

pub fn set_member(session: &str, member: &str) {
    set(&member_key(session), member);
}
