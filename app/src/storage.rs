//! The browser's local storage, for what a viewer's browser remembers (their name, rejoin
//! keys, track choices). On the server every read finds nothing and every write does nothing.

/// The stored value of `key`.
#[cfg(feature = "hydrate")]
pub fn get(key: &str) -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(key)
        .ok()?
}

#[cfg(not(feature = "hydrate"))]
pub fn get(_key: &str) -> Option<String> {
    None
}

/// Stores `value` under `key` (silently not, where storage is refused).
#[cfg(feature = "hydrate")]
pub fn set(key: &str, value: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(key, value);
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn set(_key: &str, _value: &str) {}

/// Forgets `key`.
#[cfg(feature = "hydrate")]
pub fn remove(key: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.remove_item(key);
    }
}

#[cfg(not(feature = "hydrate"))]
pub fn remove(_key: &str) {}
