//! Time formatting for the player and detail pages.

/// `83.4` → `"1:23"`, `3723.0` → `"1:02:03"`; negative or non-finite values show as `"0:00"`.
pub fn format_time(seconds: f64) -> String {
    let total = if seconds.is_finite() && seconds > 0.0 {
        seconds.floor() as u64
    } else {
        0
    };
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// A runtime for detail pages: `"1 h 42 min"`, `"24 min"`, `"45 s"`.
pub fn format_duration_ms(ms: i64) -> String {
    let secs = (ms.max(0) + 500) / 1000;
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    match (h, m) {
        (0, 0) => format!("{secs} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_clock_times() {
        assert_eq!(format_time(0.0), "0:00");
        assert_eq!(format_time(83.9), "1:23");
        assert_eq!(format_time(3723.0), "1:02:03");
        assert_eq!(format_time(f64::NAN), "0:00");
        assert_eq!(format_time(-5.0), "0:00");
    }

    #[test]
    fn formats_runtimes() {
        assert_eq!(format_duration_ms(45_000), "45 s");
        assert_eq!(format_duration_ms(24 * 60_000), "24 min");
        assert_eq!(format_duration_ms(102 * 60_000), "1 h 42 min");
        assert_eq!(format_duration_ms(7_200_000), "2 h");
    }
}
