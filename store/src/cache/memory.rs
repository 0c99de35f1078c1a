//! In-process cache backend: moka's concurrent cache, bounded by bytes, with a lifetime per
//! entry.
//!
//! The keys come partly from strangers (a search string, a page number), so the cache must
//! not grow with them: moka weighs each entry by its key and value sizes and evicts the least
//! useful entries (TinyLFU) once the total passes the bound.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::sync::Cache;

/// The bound when none is configured.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Per-entry overhead counted beside key and value (moka's node, our `Arc`, the map slot).
const ENTRY_OVERHEAD: usize = 96;

#[derive(Clone)]
struct Entry {
    bytes: Arc<[u8]>,
    ttl: Duration,
}

/// Each entry lives for the TTL it was stored with.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _at: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _at: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

pub(super) struct MemoryBackend {
    entries: Cache<String, Entry>,
}

impl MemoryBackend {
    pub(super) fn new(max_bytes: u64) -> Self {
        let entries = Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, entry: &Entry| {
                u32::try_from(key.len() + entry.bytes.len() + ENTRY_OVERHEAD).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        Self { entries }
    }

    pub(super) fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.entries.get(key).map(|e| e.bytes.to_vec())
    }

    pub(super) fn set(&self, key: &str, bytes: Vec<u8>, ttl: Duration) {
        self.entries.insert(
            key.to_owned(),
            Entry {
                bytes: bytes.into(),
                ttl,
            },
        );
    }

    pub(super) fn remove(&self, key: &str) -> bool {
        self.entries.remove(key).is_some()
    }

    pub(super) fn remove_prefix(&self, prefix: &str) -> u64 {
        let keys: Vec<Arc<String>> = self
            .entries
            .iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with(prefix))
            .collect();
        keys.iter()
            .filter(|k| self.entries.remove(k.as_str()).is_some())
            .count() as u64
    }

    pub(super) fn live_entries(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }

    /// Bytes held now (keys, values and overhead), after pending evictions.
    pub(super) fn weighed_bytes(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn strangers_keys_cannot_grow_it_past_its_bound() {
        let cache = MemoryBackend::new(1024 * 1024);
        for i in 0..20_000 {
            cache.set(
                &format!("plex:search:{i}"),
                vec![0; 500],
                Duration::from_secs(600),
            );
        }
        assert!(
            cache.weighed_bytes() <= 1024 * 1024,
            "{}",
            cache.weighed_bytes()
        );
        assert!(cache.live_entries() < 20_000);
    }

    #[test]
    fn entries_expire_and_prefixes_go() {
        let cache = MemoryBackend::new(DEFAULT_MAX_BYTES);
        cache.set("a:1", b"x".to_vec(), Duration::from_millis(30));
        cache.set("a:2", b"y".to_vec(), Duration::from_secs(60));
        cache.set("b:1", b"z".to_vec(), Duration::from_secs(60));
        assert_eq!(cache.get("a:1").as_deref(), Some(&b"x"[..]));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get("a:1"), None);
        assert_eq!(cache.remove_prefix("a:"), 1);
        assert_eq!(cache.get("b:1").as_deref(), Some(&b"z"[..]));
    }
}
