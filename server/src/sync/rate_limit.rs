//! A token bucket per connection: sustained `rate` messages per second with bursts of `burst`.

use std::time::Instant;

#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self) -> bool {
        self.try_take_at(Instant::now())
    }

    fn try_take_at(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills() {
        let start = Instant::now();
        let mut b = TokenBucket::new(10.0, 5.0);
        b.last = start;
        assert!((0..5).all(|_| b.try_take_at(start)));
        assert!(!b.try_take_at(start));
        assert!(b.try_take_at(start + Duration::from_millis(100)));
        assert!(!b.try_take_at(start + Duration::from_millis(100)));
    }
}
