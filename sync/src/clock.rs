//! NTP-style clock sync between a viewer and the server.
//!
//! A ping carries the client's send time `t0`; the server stamps receipt `t1` and reply `t2`;
//! the client stamps arrival `t3`. Assuming the path is symmetric, the server clock is ahead of
//! the client's by `offset = ((t1 - t0) + (t2 - t3)) / 2`, and the round trip spent on the wire
//! is `delay = (t3 - t0) - (t2 - t1)`. The error of an offset is at most half its delay, so the
//! estimator keeps the last few samples and trusts the one with the lowest delay; a delayed
//! sample (a busy tab, a retransmit) is simply outvoted.

use std::collections::VecDeque;

/// How many recent samples are kept.
pub const WINDOW: usize = 8;
/// Pings sent quickly after (re)connecting, before settling to the slow interval.
pub const FAST_PINGS: usize = 5;
/// Interval while warming up, in ms.
pub const FAST_INTERVAL_MS: f64 = 500.0;
/// Interval once warmed up: clocks drift slowly, paths change now and then.
pub const SLOW_INTERVAL_MS: f64 = 10_000.0;

/// One ping's measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockSample {
    /// Server clock minus client clock, in ms.
    pub offset: f64,
    /// Round-trip time on the wire, in ms.
    pub delay: f64,
}

impl ClockSample {
    /// From the four timestamps (t0, t3 on the client clock; t1, t2 on the server clock).
    /// `None` for nonsense (non-finite values, a reply before its ping).
    pub fn from_timestamps(t0: f64, t1: f64, t2: f64, t3: f64) -> Option<Self> {
        if ![t0, t1, t2, t3].iter().all(|t| t.is_finite()) || t3 < t0 || t2 < t1 {
            return None;
        }
        let offset = ((t1 - t0) + (t2 - t3)) / 2.0;
        let delay = ((t3 - t0) - (t2 - t1)).max(0.0);
        Some(Self { offset, delay })
    }
}

/// Keeps the recent samples and answers "what time is it on the server?".
#[derive(Debug, Clone, Default)]
pub struct ClockEstimator {
    samples: VecDeque<ClockSample>,
    total: usize,
}

impl ClockEstimator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sample, dropping the oldest beyond [`WINDOW`].
    pub fn add(&mut self, sample: ClockSample) {
        if self.samples.len() == WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
        self.total += 1;
    }

    /// Forgets everything (after a reconnect the path may differ), but keeps counting so the
    /// warm-up is repeated.
    pub fn reset(&mut self) {
        self.samples.clear();
        self.total = 0;
    }

    /// The lowest-delay sample in the window.
    pub fn best(&self) -> Option<ClockSample> {
        self.samples
            .iter()
            .copied()
            .min_by(|a, b| a.delay.total_cmp(&b.delay))
    }

    /// Server clock minus local clock (0 before the first sample).
    pub fn offset(&self) -> f64 {
        self.best().map(|s| s.offset).unwrap_or(0.0)
    }

    /// Round-trip estimate, in ms.
    pub fn rtt(&self) -> Option<f64> {
        self.best().map(|s| s.delay)
    }

    /// Server time for a local time.
    pub fn server_time(&self, local: f64) -> f64 {
        local + self.offset()
    }

    /// Whether enough samples arrived to trust the offset.
    pub fn ready(&self) -> bool {
        self.samples.len() >= 3
    }

    /// How long to wait before the next ping.
    pub fn next_interval_ms(&self) -> f64 {
        if self.total < FAST_PINGS {
            FAST_INTERVAL_MS
        } else {
            SLOW_INTERVAL_MS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_path_gives_the_exact_offset() {
        // Server is 5,000 ms ahead; 20 ms each way; 1 ms processing.
        let s = ClockSample::from_timestamps(100.0, 5_120.0, 5_121.0, 141.0).expect("sample");
        assert!((s.offset - 5_000.0).abs() < 1e-9);
        assert!((s.delay - 40.0).abs() < 1e-9);
    }

    #[test]
    fn the_lowest_delay_sample_wins() {
        let mut c = ClockEstimator::new();
        // An asymmetric, slow sample (error 100 ms) and two good ones.
        c.add(ClockSample::from_timestamps(0.0, 5_010.0, 5_010.0, 220.0).expect("slow"));
        c.add(ClockSample::from_timestamps(1_000.0, 6_010.0, 6_010.0, 1_020.0).expect("good"));
        c.add(ClockSample::from_timestamps(2_000.0, 7_012.0, 7_012.0, 2_025.0).expect("ok"));
        assert!((c.offset() - 5_000.0).abs() < 1e-9);
        assert_eq!(c.rtt(), Some(20.0));
        assert!(c.ready());
        assert!((c.server_time(10.0) - 5_010.0).abs() < 1e-9);
    }

    #[test]
    fn old_samples_leave_the_window() {
        let mut c = ClockEstimator::new();
        c.add(ClockSample {
            offset: 1.0,
            delay: 0.1,
        });
        for _ in 0..WINDOW {
            c.add(ClockSample {
                offset: 7.0,
                delay: 5.0,
            });
        }
        assert_eq!(c.offset(), 7.0);
        assert_eq!(c.next_interval_ms(), SLOW_INTERVAL_MS);
        c.reset();
        assert_eq!(c.next_interval_ms(), FAST_INTERVAL_MS);
    }

    #[test]
    fn nonsense_is_rejected() {
        assert!(ClockSample::from_timestamps(10.0, 1.0, 2.0, 5.0).is_none());
        assert!(ClockSample::from_timestamps(f64::NAN, 1.0, 2.0, 5.0).is_none());
    }
}
