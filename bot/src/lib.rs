//! Marquee's Discord bot.
//!
//! The slash commands (poise on serenity) arrive with the bot issue; this crate exists now so the
//! workspace has its final shape and the server can already ask whether a bot is configured.

/// Why the bot is not running, for the server's start-up log.
pub fn status(discord_token_present: bool) -> &'static str {
    if discord_token_present {
        "DISCORD_TOKEN is set, but this build has no Discord bot yet"
    } else {
        "no DISCORD_TOKEN: the Discord bot is off"
    }
}

#[cfg(test)]
mod tests {
    use super::status;

    #[test]
    fn status_names_the_missing_token() {
        assert!(status(false).contains("DISCORD_TOKEN"));
        assert_ne!(status(false), status(true));
    }
}
