//! The `/seek` argument: an absolute time (`1:23:45`, `23:45`, `90`, `90s`, `1h2m3s`) or a jump
//! relative to where the group is (`+30s`, `-10s`, `+1:30`).

/// Where to seek, as typed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeekTarget {
    /// Seconds from the start.
    Absolute(f64),
    /// Seconds forward (positive) or back (negative) from the current position.
    Relative(f64),
}

impl SeekTarget {
    /// The position in seconds, given the current one; never before the start.
    pub fn resolve(self, current: f64) -> f64 {
        match self {
            SeekTarget::Absolute(s) => s,
            SeekTarget::Relative(d) => (current + d).max(0.0),
        }
    }
}

/// Why a time did not parse; the message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{0}” is not a time. Use 1:23:45, 23:45, 90s, +30s or -10s.")]
pub struct BadTime(pub String);

/// Longest accepted time: a day, far beyond any film, small enough to stay exact.
const MAX_SECONDS: f64 = 24.0 * 3600.0;

/// Parses a `/seek` argument.
pub fn parse(input: &str) -> Result<SeekTarget, BadTime> {
    let bad = || BadTime(input.chars().take(40).collect());
    let text = input.trim();
    let (sign, rest) = match text.chars().next() {
        Some('+') => (Some(1.0), &text[1..]),
        Some('-') => (Some(-1.0), &text[1..]),
        _ => (None, text),
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let seconds = if rest.contains(':') {
        clock(rest)
    } else {
        units(rest)
    }
    .filter(|s| s.is_finite() && *s <= MAX_SECONDS)
    .ok_or_else(bad)?;
    Ok(match sign {
        Some(sign) => SeekTarget::Relative(sign * seconds),
        None => SeekTarget::Absolute(seconds),
    })
}

/// `h:mm:ss` or `m:ss`: every part a whole number, minutes and seconds below 60 after the first.
fn clock(text: &str) -> Option<f64> {
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty() || p.len() > 5) {
        return None;
    }
    let mut total = 0u64;
    for (i, part) in parts.iter().enumerate() {
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u64 = part.parse().ok()?;
        if i > 0 && (n >= 60 || part.len() != 2) {
            return None;
        }
        total = total * 60 + n;
    }
    Some(total as f64)
}

/// `90`, `90s`, `2m`, `1h2m3s`, `1.5m`: numbers each followed by a unit (a bare number is seconds).
fn units(text: &str) -> Option<f64> {
    let text = text.to_ascii_lowercase();
    if let Ok(n) = text.parse::<f64>() {
        return (n >= 0.0).then_some(n);
    }
    let mut total = 0.0;
    let mut number = String::new();
    let mut last_unit = u8::MAX;
    for c in text.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'h' | 'm' | 's' => {
                let (rank, scale) = match c {
                    'h' => (0, 3600.0),
                    'm' => (1, 60.0),
                    _ => (2, 1.0),
                };
                // Units must come in order and once each: "1h2m", not "2m1h" or "1m1m".
                if number.is_empty() || (last_unit != u8::MAX && rank <= last_unit) {
                    return None;
                }
                let n: f64 = number.parse().ok()?;
                total += n * scale;
                number.clear();
                last_unit = rank;
            }
            _ => return None,
        }
    }
    number.is_empty().then_some(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn absolute_forms() {
        for (input, secs) in [
            ("1:23:45", 5025.0),
            ("23:45", 1425.0),
            ("0:05", 5.0),
            ("90", 90.0),
            ("90s", 90.0),
            ("2m", 120.0),
            ("1h2m3s", 3723.0),
            ("1.5m", 90.0),
            (" 12:00 ", 720.0),
        ] {
            assert_eq!(parse(input), Ok(SeekTarget::Absolute(secs)), "{input}");
        }
    }

    #[test]
    fn relative_forms() {
        assert_eq!(parse("+30s"), Ok(SeekTarget::Relative(30.0)));
        assert_eq!(parse("-10s"), Ok(SeekTarget::Relative(-10.0)));
        assert_eq!(parse("+1:30"), Ok(SeekTarget::Relative(90.0)));
        assert_eq!(parse("-2m"), Ok(SeekTarget::Relative(-120.0)));
        assert_eq!(SeekTarget::Relative(-10.0).resolve(4.0), 0.0);
        assert_eq!(SeekTarget::Relative(30.0).resolve(4.0), 34.0);
    }

    #[test]
    fn malformed_times_are_refused_with_a_hint() {
        for input in [
            "",
            "+",
            "abc",
            "1:7x",
            "1:60",
            "1:2",
            "::",
            "1:23:45:00",
            "2m1h",
            "1m1m",
            "5q",
            "-",
            "1e9",
            "99999h",
            "NaN",
            "inf",
        ] {
            let err = parse(input).expect_err(input);
            assert!(err.to_string().contains("is not a time"), "{input}: {err}");
        }
        assert_eq!(
            parse("1:7x").unwrap_err().to_string(),
            "“1:7x” is not a time. Use 1:23:45, 23:45, 90s, +30s or -10s."
        );
    }
}
