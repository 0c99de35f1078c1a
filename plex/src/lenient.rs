//! Deserializers that accept what real Plex servers actually send.
//!
//! Depending on version, endpoint and whether a proxy turned JSON into XML, the same field can
//! arrive as `1`, `"1"`, `true`, `null` or not at all. Everything goes through a
//! `serde_json::Value` first so one set of rules covers both JSON and converted XML.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Ok(Option::<Value>::deserialize(d)?.filter(|v| !v.is_null()))
}

/// Parse an integer out of a number, numeric string (also `"12.0"`), or bool.
fn to_i64(v: &Value) -> Option<Result<i64, String>> {
    match v {
        Value::Number(n) => Some(
            n.as_i64()
                .or_else(|| n.as_f64().map(|f| f as i64))
                .ok_or_else(|| format!("number out of range: {n}")),
        ),
        Value::Bool(b) => Some(Ok(i64::from(*b))),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            Some(
                s.parse::<i64>()
                    .or_else(|_| s.parse::<f64>().map(|f| f as i64))
                    .map_err(|_| format!("expected an integer, got {s:?}")),
            )
        }
        _ => Some(Err(format!("expected an integer, got {v}"))),
    }
}

/// Optional integer: number, numeric string, bool-as-0/1; null/empty/missing → `None`.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match value(d)? {
        None => Ok(None),
        Some(v) => to_i64(&v).transpose().map_err(D::Error::custom),
    }
}

/// Integer defaulting to 0 (for ids that are always present in practice).
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(opt_i64(d)?.unwrap_or(0))
}

/// Optional non-negative integer (sizes, counts).
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match opt_i64(d)? {
        None => Ok(None),
        Some(n) => u64::try_from(n)
            .map(Some)
            .map_err(|_| D::Error::custom(format!("expected a non-negative integer, got {n}"))),
    }
}

/// Optional float: number or numeric string.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match value(d)? {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::Bool(b)) => Ok(Some(if b { 1.0 } else { 0.0 })),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("expected a number, got {s:?}"))),
        Some(v) => Err(D::Error::custom(format!("expected a number, got {v}"))),
    }
}

/// Optional bool: true/false, 0/1, "0"/"1", "true"/"false".
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match value(d)? {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::Number(n)) => Ok(Some(n.as_f64().is_some_and(|f| f != 0.0))),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "1" | "true" | "yes" => Ok(Some(true)),
            "0" | "false" | "no" => Ok(Some(false)),
            other => Err(D::Error::custom(format!(
                "expected a boolean, got {other:?}"
            ))),
        },
        Some(v) => Err(D::Error::custom(format!("expected a boolean, got {v}"))),
    }
}

/// Optional string that may arrive as a number (ids, keys).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match value(d)? {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(if b { "1" } else { "0" }.to_string())),
        Some(v) => Err(D::Error::custom(format!("expected a string, got {v}"))),
    }
}

/// String that may arrive as a number; missing → empty.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// A list that may be missing, null, or (from sloppy converters) a single object.
pub fn vec<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    match value(d)? {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|v| serde_json::from_value(v).map_err(D::Error::custom))
            .collect(),
        Some(v @ Value::Object(_)) => serde_json::from_value(v)
            .map(|one| vec![one])
            .map_err(D::Error::custom),
        Some(v) => Err(D::Error::custom(format!("expected a list, got {v}"))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde::Deserialize;

    #[derive(Deserialize, Debug, Default)]
    struct T {
        #[serde(default, deserialize_with = "super::opt_i64")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "super::opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "super::opt_string")]
        s: Option<String>,
        #[serde(default, deserialize_with = "super::opt_f64")]
        f: Option<f64>,
    }

    fn t(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn accepts_numbers_strings_bools_and_nulls() {
        let v = t(r#"{"n":"2019","b":"1","s":101816,"f":"7.5"}"#);
        assert_eq!(
            (v.n, v.b, v.s.as_deref(), v.f),
            (Some(2019), Some(true), Some("101816"), Some(7.5))
        );
        let v = t(r#"{"n":2019,"b":0,"s":"x","f":7}"#);
        assert_eq!(
            (v.n, v.b, v.s.as_deref(), v.f),
            (Some(2019), Some(false), Some("x"), Some(7.0))
        );
        let v = t(r#"{"n":null,"b":null,"s":null,"f":""}"#);
        assert_eq!((v.n, v.b, v.s, v.f), (None, None, None, None));
        let v = t(r#"{"n":true,"b":true}"#);
        assert_eq!((v.n, v.b), (Some(1), Some(true)));
        let v = t("{}");
        assert_eq!((v.n, v.b, v.s, v.f), (None, None, None, None));
    }

    #[test]
    fn rejects_garbage() {
        assert!(serde_json::from_str::<T>(r#"{"n":"abc"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"b":"maybe"}"#).is_err());
    }
}
