//! Request rate limits per client address, for the sign-in endpoints and the API: a token
//! bucket per address (IPv6 by /64, see [`crate::client_addr`]), answered with
//! `429 Too Many Requests` and `Retry-After` when empty.
//!
//! The buckets live in governor's keyed limiter (a sharded map, so a check locks one shard,
//! never the whole map). Buckets that have refilled are indistinguishable from new ones and
//! are dropped every [`TIDY_EVERY`] checks, shard by shard, which keeps the map to the
//! addresses seen in the last refill time.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How many checks between two sweeps of refilled buckets.
const TIDY_EVERY: u64 = 4096;

/// See the module docs.
pub struct Limiter {
    buckets: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl Limiter {
    /// `per_minute` sustained, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let quota =
            Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            buckets: RateLimiter::keyed(quota),
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` if `bucket` (a [`crate::client_addr::ClientAddr::bucket`]) may make a request
    /// now, else the whole seconds to wait.
    pub fn check(&self, bucket: IpAddr) -> Result<(), u64> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % TIDY_EVERY == TIDY_EVERY - 1 {
            self.buckets.retain_recent();
            self.buckets.shrink_to_fit();
        }
        self.buckets.check_key(&bucket).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs_f64().ceil().max(1.0) as u64
        })
    }

    /// Addresses with a bucket now.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_burst_then_a_wait() {
        let limiter = Limiter::new(60, 3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!((0..3).all(|_| limiter.check(ip).is_ok()));
        assert_eq!(limiter.check(ip), Err(1));
        assert!(limiter.check([10, 0, 0, 2].into()).is_ok(), "per address");
    }

    #[test]
    fn refilled_buckets_are_forgotten() {
        // 6000 a minute: a bucket of one refills in 10 ms.
        let limiter = Limiter::new(6000, 1);
        for i in 0..TIDY_EVERY - 1 {
            let _ = limiter.check(IpAddr::from((i as u32).to_be_bytes()));
        }
        assert!(limiter.tracked() >= (TIDY_EVERY - 1) as usize);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let _ = limiter.check([10, 0, 0, 1].into());
        assert!(limiter.tracked() <= 1, "{} left", limiter.tracked());
    }
}
