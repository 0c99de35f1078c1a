//! Redis cache backend: values are JSON bytes under `<namespace>:<key>` with a PX expiry.

use std::time::Duration;

use deadpool_redis::{Config, Pool, PoolConfig, Runtime, Timeouts};

use super::CacheError;

/// Keys removed per UNLINK / scanned per SCAN step.
const SCAN_BATCH: usize = 500;

pub(super) struct RedisBackend {
    pool: Pool,
    namespace: String,
}

impl RedisBackend {
    pub(super) fn new(url: &str, namespace: &str) -> Result<Self, CacheError> {
        let mut pool_config = PoolConfig::new(16);
        // Short timeouts: a cache that hangs is worse than a miss.
        pool_config.timeouts = Timeouts {
            wait: Some(Duration::from_secs(2)),
            create: Some(Duration::from_secs(2)),
            recycle: Some(Duration::from_secs(2)),
        };
        let mut config = Config::from_url(url);
        config.pool = Some(pool_config);
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| CacheError::Config(e.to_string()))?;
        Ok(Self {
            pool,
            namespace: namespace.to_owned(),
        })
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}:{}", self.namespace, key)
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection, CacheError> {
        Ok(self.pool.get().await?)
    }

    pub(super) async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    pub(super) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.conn().await?;
        Ok(redis::cmd("GET")
            .arg(self.full_key(key))
            .query_async::<Option<Vec<u8>>>(&mut conn)
            .await?)
    }

    pub(super) async fn set(
        &self,
        key: &str,
        bytes: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut conn = self.conn().await?;
        redis::cmd("SET")
            .arg(self.full_key(key))
            .arg(bytes)
            .arg("PX")
            .arg(millis)
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    pub(super) async fn remove(&self, key: &str) -> Result<bool, CacheError> {
        let mut conn = self.conn().await?;
        let n = redis::cmd("UNLINK")
            .arg(self.full_key(key))
            .query_async::<u64>(&mut conn)
            .await?;
        Ok(n > 0)
    }

    /// SCAN (non-blocking, unlike KEYS) for the namespaced prefix and UNLINK in batches.
    pub(super) async fn remove_prefix(&self, prefix: &str) -> Result<u64, CacheError> {
        let pattern = format!("{}:{}*", escape_glob(&self.namespace), escape_glob(prefix));
        let mut conn = self.conn().await?;
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_BATCH)
                .query_async(&mut conn)
                .await?;
            if !keys.is_empty() {
                removed += redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async::<u64>(&mut conn)
                    .await?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

/// Escapes Redis glob metacharacters so a prefix matches literally.
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_glob;

    #[test]
    fn escapes_glob_characters() {
        assert_eq!(escape_glob("lib:[1]*?"), "lib:\\[1\\]\\*\\?");
        assert_eq!(escape_glob("plain:key"), "plain:key");
    }
}
