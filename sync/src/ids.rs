//! Checked identifiers and names: a session id, a display name, a Plex rating key.
//!
//! Each arrives from outside (a link, a form, a command) and is checked once, here, by its
//! `parse` constructor; a value of one of these types is known to be well formed. Each
//! serializes as the plain string it wraps, so stored sessions and the wire format are the same
//! as with bare strings; reading one back checks it again.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::session::SessionError;

/// Longest display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// Longest session id accepted, in bytes.
const MAX_SESSION_ID_BYTES: usize = 32;
/// Longest Plex key accepted, in bytes.
const MAX_PLEX_KEY_BYTES: usize = 32;

/// A watch session's id: short, ASCII letters and digits (it is part of the session's link), so
/// a malformed link is refused before any lookup.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    /// Checks the shape of a session id.
    pub fn parse(id: &str) -> Result<Self, SessionError> {
        let ok = !id.is_empty()
            && id.len() <= MAX_SESSION_ID_BYTES
            && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(SessionError::InvalidSessionId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a member is shown to the others ("Ana paused"): trimmed, without control characters,
/// 1–[`MAX_NAME_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// Cleans a name as typed (drops control characters, then trims it) and checks its length.
    /// Control characters go first: dropping them can uncover whitespace at an end
    /// (`"\u{1f} Ana"`), and a stored name is parsed again when it is read back, so the result
    /// must already be trimmed.
    pub fn parse(name: &str) -> Result<Self, SessionError> {
        let name: String = name.chars().filter(|c| !c.is_control()).collect();
        let name = name.trim().to_owned();
        let n = name.chars().count();
        if n == 0 || n > MAX_NAME_CHARS {
            return Err(SessionError::InvalidName);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A Plex item's `ratingKey`. It goes into Plex URL paths, so it is checked before it gets
/// there: see [`is_plex_key`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RatingKey(String);

impl RatingKey {
    /// Checks the shape of a rating key.
    pub fn parse(key: &str) -> Result<Self, SessionError> {
        if is_plex_key(key) {
            Ok(Self(key.to_owned()))
        } else {
            Err(SessionError::InvalidRatingKey)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// The one rule for keys Marquee puts into Plex URL paths (an item's rating key, a library
/// section's key): 1–32 ASCII letters, digits, `-` or `_`. Anything else (`../identity`) is
/// refused before it reaches Plex.
pub fn is_plex_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_PLEX_KEY_BYTES
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

macro_rules! string_newtype {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.0
            }
        }

        impl TryFrom<String> for $t {
            type Error = SessionError;

            fn try_from(value: String) -> Result<Self, SessionError> {
                Self::parse(&value)
            }
        }
    )*};
}

string_newtype!(SessionId, DisplayName, RatingKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_short_letters_and_digits() {
        assert_eq!(
            SessionId::parse("abc123XYZ").map(|s| s.to_string()),
            Ok("abc123XYZ".to_string())
        );
        for bad in ["", "a-b", "../x", "a b", &"x".repeat(33)] {
            assert_eq!(
                SessionId::parse(bad),
                Err(SessionError::InvalidSessionId),
                "{bad:?}"
            );
        }
        assert!(SessionId::parse(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Ana \n").map(String::from),
            Ok("Ana".into())
        );
        assert_eq!(
            DisplayName::parse("A\u{7}na").map(String::from),
            Ok("Ana".into())
        );
        assert_eq!(DisplayName::parse("   "), Err(SessionError::InvalidName));
        assert_eq!(
            DisplayName::parse(&"é".repeat(MAX_NAME_CHARS)).map(|n| n.as_str().chars().count()),
            Ok(MAX_NAME_CHARS),
            "characters, not bytes"
        );
        assert_eq!(
            DisplayName::parse(&"x".repeat(MAX_NAME_CHARS + 1)),
            Err(SessionError::InvalidName)
        );
    }

    #[test]
    fn a_cleaned_name_is_trimmed_and_parses_to_itself() {
        // Found by the `ids` fuzz target: trimming before dropping the control characters left
        // " Ana a", which parsing again (as reading a stored name does) turned into "Ana a".
        let name = DisplayName::parse("\u{1f} Ana \na \n").expect("a name");
        assert_eq!(name.as_str(), "Ana a");
        assert_eq!(DisplayName::parse(name.as_str()), Ok(name));
        assert_eq!(
            DisplayName::parse("Ana \u{7}\u{85}").map(String::from),
            Ok("Ana".into())
        );
        assert_eq!(
            DisplayName::parse(" \u{1f} \u{7f} "),
            Err(SessionError::InvalidName)
        );
    }

    #[test]
    fn rating_keys_are_plex_keys() {
        for good in ["101", "abc", "a-b_c", &"9".repeat(32)] {
            assert_eq!(
                RatingKey::parse(good).map(String::from),
                Ok(good.to_string())
            );
        }
        for bad in ["", "../identity", "1/2", "1?x=2", "a b", &"9".repeat(33)] {
            assert_eq!(
                RatingKey::parse(bad),
                Err(SessionError::InvalidRatingKey),
                "{bad:?}"
            );
            assert!(!is_plex_key(bad));
        }
    }

    #[test]
    fn the_wire_form_is_the_bare_string() {
        let key = RatingKey::parse("101").expect("key");
        assert_eq!(serde_json::to_string(&key).expect("json"), r#""101""#);
        let id: SessionId = serde_json::from_str(r#""s1""#).expect("id");
        assert_eq!(id.as_str(), "s1");
        let name = DisplayName::parse("Ana").expect("name");
        assert_eq!(serde_json::to_string(&name).expect("json"), r#""Ana""#);
        assert!(serde_json::from_str::<RatingKey>(r#""../identity""#).is_err());
    }
}
