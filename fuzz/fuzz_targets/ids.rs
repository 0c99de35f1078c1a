//! Strings from outside (links, forms, server-function arguments, commands) through the checked
//! identifiers of `marquee_sync::ids` and the Plex key rule the app's `validate_key` uses.
//!
//! Checks that whatever is accepted satisfies the documented rules:
//! - a session id is 1–32 ASCII letters and digits;
//! - a display name is 1–`MAX_NAME_CHARS` characters, without control characters, trimmed, and
//!   parsing it again gives the same name (a stored name is checked again when it is read);
//! - a rating key (and any key `is_plex_key` accepts) is 1–32 ASCII letters, digits, `-`, `_`,
//!   and put into a Plex URL path it stays one path segment (it cannot reach another endpoint);
//! - each type's JSON form is the bare string, and reading it back checks it again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use marquee_sync::ids::{DisplayName, MAX_NAME_CHARS, RatingKey, SessionId, is_plex_key};
use marquee_sync::session::clean_name;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };

    if let Ok(id) = SessionId::parse(input) {
        let s = id.as_str();
        assert_eq!(s, input);
        assert!((1..=32).contains(&s.len()));
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    let id_json = serde_json::to_string(input).expect("a string serializes");
    assert_eq!(
        serde_json::from_str::<SessionId>(&id_json).ok(),
        SessionId::parse(input).ok(),
        "reading a session id checks it"
    );

    match DisplayName::parse(input) {
        Ok(name) => {
            let s = name.as_str();
            let n = s.chars().count();
            assert!((1..=MAX_NAME_CHARS).contains(&n), "{n} characters: {s:?}");
            assert!(
                !s.chars().any(char::is_control),
                "control character in {s:?}"
            );
            assert_eq!(s, s.trim(), "untrimmed name {s:?} from {input:?}");
            assert_eq!(
                DisplayName::parse(s).as_ref(),
                Ok(&name),
                "parsing {s:?} again changes it"
            );
            assert_eq!(clean_name(input).as_deref(), Ok(s));
            let json = serde_json::to_string(&name).expect("serializes");
            assert_eq!(serde_json::from_str::<DisplayName>(&json).ok(), Some(name));
        }
        Err(_) => assert!(clean_name(input).is_err()),
    }

    let accepted = is_plex_key(input);
    assert_eq!(RatingKey::parse(input).is_ok(), accepted);
    if accepted {
        assert!((1..=32).contains(&input.len()));
        assert!(
            input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let url = url::Url::parse(&format!(
            "http://plex.invalid:32400/library/metadata/{input}"
        ))
        .expect("a key makes a valid URL");
        assert_eq!(url.path(), format!("/library/metadata/{input}"));
        assert_eq!(url.query(), None);
        assert_eq!(url.fragment(), None);
    }
    let key_json = serde_json::to_string(input).expect("a string serializes");
    assert_eq!(
        serde_json::from_str::<RatingKey>(&key_json).is_ok(),
        accepted,
        "reading a rating key checks it"
    );
});
