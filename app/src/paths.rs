//! Where Marquee's own URLs live as the browser sees them.
//!
//! Inside Discord the Activity is served through Discord's proxy, which may put Marquee under
//! `/.proxy/` on the Activity's origin (`https://<app id>.discordsays.com/.proxy/…`) and only
//! forwards what is under the mapped prefix. Everything the browser fetches (media, images, server
//! functions, the WebSocket, scripts) therefore goes through [`local`], which puts the prefix the
//! page was served under in front of Marquee's absolute paths. On every other page, and on the
//! server, the prefix is empty and paths are unchanged.

/// The path prefix Discord's proxy serves Marquee under.
pub const DISCORD_PROXY_PREFIX: &str = "/.proxy";

/// The prefix of this document (`/.proxy` inside Discord's proxy, else empty).
pub fn prefix() -> &'static str {
    #[cfg(feature = "hydrate")]
    {
        let under_proxy = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .is_some_and(|p| p.starts_with(&format!("{DISCORD_PROXY_PREFIX}/")));
        if under_proxy {
            return DISCORD_PROXY_PREFIX;
        }
    }
    ""
}

/// `path` as this document must request it: absolute paths of Marquee's get the prefix; anything
/// else (relative, `data:`, `blob:`) is returned as it is.
pub fn local(path: &str) -> String {
    with_prefix(prefix(), path)
}

fn with_prefix(prefix: &str, path: &str) -> String {
    if path.starts_with('/') && !path.starts_with("//") {
        format!("{prefix}{path}")
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_marquee_absolute_paths_get_the_prefix() {
        assert_eq!(
            with_prefix("/.proxy", "/media/1/0/0"),
            "/.proxy/media/1/0/0"
        );
        assert_eq!(with_prefix("", "/media/1/0/0"), "/media/1/0/0");
        assert_eq!(with_prefix("/.proxy", "//cdn.example/x"), "//cdn.example/x");
        assert_eq!(
            with_prefix("/.proxy", "data:image/png;base64,"),
            "data:image/png;base64,"
        );
        assert_eq!(with_prefix("/.proxy", "pkg/marquee.css"), "pkg/marquee.css");
    }
}
