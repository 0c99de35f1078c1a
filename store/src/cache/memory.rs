//! In-process cache backend: a mutex-guarded map with per-entry deadlines.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sweep expired entries every this many writes so keys that are never read again cannot
/// accumulate forever.
const SWEEP_EVERY: u64 = 1024;

#[derive(Default)]
pub(super) struct MemoryBackend {
    inner: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<String, Entry>,
    writes: u64,
}

struct Entry {
    bytes: Vec<u8>,
    expires_at: Instant,
}

impl MemoryBackend {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the map inconsistent (single
        // insert/remove calls), so a poisoned lock is safe to keep using.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut state = self.lock();
        let now = Instant::now();
        match state.entries.get(key) {
            Some(entry) if entry.expires_at > now => Some(entry.bytes.clone()),
            Some(_) => {
                state.entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub(super) fn set(&self, key: &str, bytes: Vec<u8>, ttl: Duration) {
        let now = Instant::now();
        let expires_at = now
            .checked_add(ttl)
            .unwrap_or(now + Duration::from_secs(86_400 * 365));
        let mut state = self.lock();
        state.writes = state.writes.wrapping_add(1);
        if state.writes.is_multiple_of(SWEEP_EVERY) {
            state.entries.retain(|_, e| e.expires_at > now);
        }
        state
            .entries
            .insert(key.to_owned(), Entry { bytes, expires_at });
    }

    pub(super) fn remove(&self, key: &str) -> bool {
        self.lock().entries.remove(key).is_some()
    }

    pub(super) fn remove_prefix(&self, prefix: &str) -> u64 {
        let mut state = self.lock();
        let before = state.entries.len();
        state.entries.retain(|k, _| !k.starts_with(prefix));
        (before - state.entries.len()) as u64
    }

    pub(super) fn live_entries(&self) -> u64 {
        let mut state = self.lock();
        let now = Instant::now();
        state.entries.retain(|_, e| e.expires_at > now);
        state.entries.len() as u64
    }
}
