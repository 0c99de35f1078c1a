//! Drift correction: how a player follows the session clock without visible stutter.
//!
//! Every tick the player measures `drift = local position − group position` (seconds,
//! positive = ahead). Small drift is absorbed by nudging `playbackRate` in proportion to it,
//! which nobody notices; only drift that a rate change could not absorb quickly is fixed with a
//! seek, and then at most once per cooldown. Hysteresis (start correcting above `enter`, stop
//! below `exit`) keeps the rate from flapping around the target, and a short median filter
//! ignores single noisy readings. The seek target leads the group by the player's measured seek
//! latency, learned from how far off each seek landed.

use std::collections::VecDeque;

/// Tuning for [`DriftController`]. The defaults aim at tens of milliseconds in steady state
/// and at most one seek to recover from a multi-second jump.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftConfig {
    /// Start correcting above this |drift| (s).
    pub enter: f64,
    /// Stop correcting below this |drift| (s).
    pub exit: f64,
    /// Rate change per second of drift (1/s): the correction's time constant is 1/gain.
    pub gain: f64,
    /// Largest rate change, as a fraction of the group rate.
    pub max_rate_delta: f64,
    /// Below this |drift| (s) the rate changes by at most [`DriftConfig::fine_rate_delta`]:
    /// a few tens of milliseconds are taken back over seconds, with a rate change nobody
    /// hears (browsers keep the pitch), instead of a quick swing.
    pub fine_zone: f64,
    /// Largest rate change inside the fine zone.
    pub fine_rate_delta: f64,
    /// Seek when |drift| reaches this (s).
    pub seek_threshold: f64,
    /// No second seek within this long of the last (ms).
    pub seek_cooldown_ms: f64,
    /// Never speed up with less than this much buffered ahead (s): it would only stall.
    pub min_buffer_to_speed_up: f64,
    /// First guess at how long a seek takes to land (s).
    pub initial_seek_latency: f64,
}

impl Default for DriftConfig {
    fn default() -> Self {
        Self {
            enter: 0.010,
            exit: 0.003,
            gain: 1.2,
            max_rate_delta: 0.12,
            fine_zone: 0.05,
            fine_rate_delta: 0.04,
            seek_threshold: 0.8,
            seek_cooldown_ms: 2_000.0,
            min_buffer_to_speed_up: 0.5,
            initial_seek_latency: 0.1,
        }
    }
}

/// What the player should do this tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Correction {
    /// The `playbackRate` to use.
    pub rate: f64,
    /// Seek here (s) first, if set.
    pub seek: Option<f64>,
}

/// The per-player controller; feed it one measurement per tick while the group plays.
#[derive(Debug, Clone)]
pub struct DriftController {
    cfg: DriftConfig,
    correcting: bool,
    recent: VecDeque<f64>,
    last_seek_at: Option<f64>,
    awaiting_seek_result: bool,
    seek_latency: f64,
    seeks: u32,
}

impl Default for DriftController {
    fn default() -> Self {
        Self::new(DriftConfig::default())
    }
}

impl DriftController {
    pub fn new(cfg: DriftConfig) -> Self {
        Self {
            cfg,
            correcting: false,
            recent: VecDeque::with_capacity(3),
            last_seek_at: None,
            awaiting_seek_result: false,
            seek_latency: cfg.initial_seek_latency,
            seeks: 0,
        }
    }

    /// Seeks this controller has asked for (the benchmark reports it).
    pub fn seeks(&self) -> u32 {
        self.seeks
    }

    /// Current estimate of seek latency (s).
    pub fn seek_latency(&self) -> f64 {
        self.seek_latency
    }

    /// Whether a rate correction is in progress.
    pub fn correcting(&self) -> bool {
        self.correcting
    }

    /// Forget the filter (the group jumped, or the item changed): the next reading starts fresh.
    pub fn reset(&mut self) {
        self.recent.clear();
        self.correcting = false;
        self.awaiting_seek_result = false;
    }

    /// One tick: `now_ms` any monotonic clock, positions in seconds, `group_rate` the session
    /// rate, `buffered_ahead` seconds buffered past the local position. Call only while the
    /// group is playing and the element is not mid-seek.
    pub fn update(
        &mut self,
        now_ms: f64,
        local: f64,
        target: f64,
        group_rate: f64,
        buffered_ahead: f64,
    ) -> Correction {
        let raw = local - target;
        if self.awaiting_seek_result {
            // Landing behind (raw < 0) means seeks take longer than we assumed.
            self.awaiting_seek_result = false;
            if raw.abs() < self.cfg.seek_threshold {
                self.seek_latency = (self.seek_latency - raw / group_rate).clamp(0.0, 1.0);
            }
        }
        if self.recent.len() == 3 {
            self.recent.pop_front();
        }
        self.recent.push_back(raw);
        let drift = median(&self.recent);

        let cooling = self
            .last_seek_at
            .is_some_and(|t| now_ms - t < self.cfg.seek_cooldown_ms);
        // A seek needs three agreeing readings: one glitchy reading must never cause a jump.
        if drift.abs() >= self.cfg.seek_threshold && !cooling && self.recent.len() == 3 {
            self.seeks += 1;
            self.last_seek_at = Some(now_ms);
            self.awaiting_seek_result = true;
            self.recent.clear();
            self.correcting = false;
            return Correction {
                rate: group_rate,
                seek: Some((target + self.seek_latency * group_rate).max(0.0)),
            };
        }

        if self.correcting {
            if drift.abs() < self.cfg.exit {
                self.correcting = false;
            }
        } else if drift.abs() > self.cfg.enter {
            self.correcting = true;
        }
        let cap = if drift.abs() < self.cfg.fine_zone {
            self.cfg.fine_rate_delta
        } else {
            self.cfg.max_rate_delta
        };
        let mut delta = if self.correcting {
            (-drift * self.cfg.gain).clamp(-cap, cap)
        } else {
            0.0
        };
        if delta > 0.0 && buffered_ahead < self.cfg.min_buffer_to_speed_up {
            delta = 0.0;
        }
        Correction {
            rate: group_rate * (1.0 + delta),
            seek: None,
        }
    }
}

fn median(values: &VecDeque<f64>) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A simulated player: advances at its rate, seeks land `seek_cost` late.
    fn simulate(start_drift: f64, seek_cost: f64, seconds: f64) -> (Vec<f64>, u32) {
        let mut c = DriftController::new(DriftConfig::default());
        let tick = 100.0;
        let (mut local, mut target) = (100.0 + start_drift, 100.0);
        let mut drifts = Vec::new();
        let mut t = 0.0;
        while t < seconds * 1000.0 {
            let corr = c.update(t, local, target, 1.0, 30.0);
            if let Some(to) = corr.seek {
                local = to - seek_cost; // the seek lands, then the clock moved on meanwhile
            }
            let rate = corr.rate;
            local += tick / 1000.0 * rate;
            target += tick / 1000.0;
            t += tick;
            drifts.push(local - target);
        }
        (drifts, c.seeks())
    }

    fn settled_within(drifts: &[f64], tolerance: f64) -> Option<usize> {
        (0..drifts.len()).find(|&i| drifts[i..].iter().all(|d| d.abs() <= tolerance))
    }

    #[test]
    fn small_drift_is_absorbed_without_a_seek() {
        let (drifts, seeks) = simulate(0.3, 0.0, 10.0);
        assert_eq!(seeks, 0);
        let at = settled_within(&drifts, 0.05).expect("settles");
        assert!(at <= 30, "took {at} ticks");
    }

    #[test]
    fn big_jumps_recover_with_one_seek_within_five_seconds() {
        for push in [2.0, 6.0, -6.0] {
            let (drifts, seeks) = simulate(push, 0.15, 10.0);
            assert_eq!(seeks, 1, "push {push}");
            let at = settled_within(&drifts, 0.05).expect("settles");
            assert!(at <= 50, "push {push}: {at} ticks");
        }
    }

    /// Issue 14: the controller used to act only beyond 25 ms, so a viewer could sit 25 ms off
    /// for good. Now 10 ms is enough, and the correction is gentle.
    #[test]
    fn drift_past_ten_ms_is_taken_back_gently() {
        let (drifts, seeks) = simulate(0.02, 0.0, 6.0);
        assert_eq!(seeks, 0);
        let at = settled_within(&drifts, 0.004).expect("settles");
        assert!(at <= 30, "took {at} ticks");
        let mut c = DriftController::new(DriftConfig::default());
        let corr = c.update(0.0, 10.04, 10.0, 1.0, 30.0);
        assert!(corr.rate < 1.0 && corr.rate >= 0.96, "{corr:?}");
    }

    #[test]
    fn tiny_drift_is_left_alone() {
        let mut c = DriftController::new(DriftConfig::default());
        for i in 0..20 {
            let corr = c.update(f64::from(i) * 100.0, 10.006, 10.0, 1.0, 30.0);
            assert_eq!(
                corr,
                Correction {
                    rate: 1.0,
                    seek: None
                }
            );
        }
    }

    #[test]
    fn a_single_outlier_does_not_trigger_a_seek() {
        let mut c = DriftController::new(DriftConfig::default());
        c.update(0.0, 10.0, 10.0, 1.0, 30.0);
        c.update(100.0, 10.0, 10.0, 1.0, 30.0);
        let corr = c.update(200.0, 15.0, 10.0, 1.0, 30.0);
        assert_eq!(corr.seek, None);
        assert_eq!(c.seeks(), 0);
    }

    #[test]
    fn does_not_speed_up_on_an_empty_buffer() {
        let mut c = DriftController::new(DriftConfig::default());
        let mut corr = c.update(0.0, 9.7, 10.0, 1.0, 0.1);
        for i in 1..3 {
            corr = c.update(f64::from(i) * 100.0, 9.7, 10.0, 1.0, 0.1);
        }
        assert_eq!(corr.rate, 1.0);
    }

    #[test]
    fn seek_latency_is_learned() {
        let mut c = DriftController::new(DriftConfig::default());
        for i in 0..3 {
            c.update(f64::from(i) * 100.0, 20.0, 10.0, 1.0, 30.0);
        }
        assert_eq!(c.seeks(), 1);
        // The seek landed 0.2 s behind the group.
        c.update(400.0, 9.8, 10.0, 1.0, 30.0);
        assert!((c.seek_latency() - 0.3).abs() < 1e-9);
    }
}
