//! The now-playing card: what the bot's message shows about a session (poster, title, position,
//! who did what, what is next) and its buttons. Built from the session alone, so the same card
//! comes out whoever changed the session (bot, web page or Activity).

use marquee_sync::Session;
use marquee_sync::session::clock_time;
use poise::serenity_prelude as serenity;

use crate::catalog::Playable;

/// Custom-id prefix of the card's buttons: `mq:<action>:<session id>`.
pub const BUTTON_PREFIX: &str = "mq:";

/// A button on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    /// Pause when playing, resume when paused.
    Toggle,
    Skip,
}

impl Button {
    fn id(self) -> &'static str {
        match self {
            Button::Toggle => "toggle",
            Button::Skip => "skip",
        }
    }

    /// The button's custom id for a session.
    pub fn custom_id(self, session: &str) -> String {
        format!("{BUTTON_PREFIX}{}:{session}", self.id())
    }

    /// Reads a custom id back into (button, session id).
    pub fn parse(custom_id: &str) -> Option<(Button, &str)> {
        let rest = custom_id.strip_prefix(BUTTON_PREFIX)?;
        let (action, session) = rest.split_once(':')?;
        let button = [Button::Toggle, Button::Skip]
            .into_iter()
            .find(|b| b.id() == action)?;
        marquee_sync::SessionId::parse(session)
            .is_ok()
            .then_some((button, session))
    }
}

/// Everything the card shows, as plain text (tested without Discord types).
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub title: String,
    pub url: String,
    pub status: String,
    pub last_action: Option<String>,
    pub up_next: Option<String>,
    pub watching: String,
    pub poster: Option<String>,
    pub playing: bool,
    pub has_next: bool,
    pub ended: bool,
}

/// Absolute link to a session page.
pub fn session_url(public_url: &str, session: &str) -> String {
    format!("{}/session/{session}", public_url.trim_end_matches('/'))
}

/// Builds the card for `session` at server time `now_ms`.
pub fn card(
    session: &Session,
    current: Option<&Playable>,
    last_action: Option<&str>,
    public_url: &str,
    now_ms: f64,
) -> Card {
    let entry = session.current_entry();
    let title = entry
        .map(|e| e.title.clone())
        .unwrap_or_else(|| "Nothing playing".into());
    let position = session.playback.position_at(now_ms);
    let of_total = current
        .and_then(|p| p.duration_ms)
        .map(|ms| format!(" / {}", clock_time(ms as f64 / 1000.0)))
        .unwrap_or_default();
    let status = if entry.is_none() {
        "The queue has ended.".to_owned()
    } else if let Some(wait) = &session.wait {
        let names: Vec<&str> = wait
            .members
            .iter()
            .filter_map(|id| session.member(id).map(|m| m.name.as_str()))
            .collect();
        format!(
            "⏳ Waiting for {} · {}{of_total}",
            names.join(", "),
            clock_time(position)
        )
    } else if session.playback.playing {
        let end = current.and_then(|p| p.duration_ms).map(|ms| {
            let remaining_ms = (ms as f64 - position * 1000.0) / session.playback.rate;
            format!(
                " · ends <t:{}:t>",
                ((now_ms + remaining_ms) / 1000.0).round() as i64
            )
        });
        format!(
            "▶️ Playing · {}{of_total}{}",
            clock_time(position),
            end.unwrap_or_default()
        )
    } else {
        format!("⏸️ Paused at {}{of_total}", clock_time(position))
    };
    let next = session
        .current_entry()
        .and_then(|cur| session.queue.iter().position(|e| e.id == cur.id))
        .and_then(|i| session.queue.get(i + 1));
    let mut online: Vec<&str> = session
        .members
        .iter()
        .filter(|m| m.online())
        .map(|m| m.name.as_str())
        .collect();
    online.sort_unstable();
    let watching = if online.is_empty() {
        "Nobody yet: open the link to join.".to_owned()
    } else {
        online.join(", ")
    };
    Card {
        title,
        url: session_url(public_url, &session.id),
        status,
        last_action: last_action.map(str::to_owned),
        up_next: next.map(|e| e.title.clone()),
        watching,
        poster: current
            .and_then(|p| p.poster.as_deref())
            .map(|p| format!("{}{p}", public_url.trim_end_matches('/'))),
        playing: session.playback.playing,
        has_next: next.is_some(),
        ended: entry.is_none(),
    }
}

impl Card {
    /// The card as a Discord embed.
    pub fn embed(&self) -> serenity::CreateEmbed {
        let mut description = self.status.clone();
        if let Some(action) = &self.last_action {
            description.push_str(&format!("\n*{action}*"));
        }
        let mut embed = serenity::CreateEmbed::new()
            .title(&self.title)
            .url(&self.url)
            .description(description)
            .colour(0xE5A00D)
            .field("Watching", &self.watching, false)
            .footer(serenity::CreateEmbedFooter::new("Marquee · watch together"));
        if let Some(next) = &self.up_next {
            embed = embed.field("Up next", next, false);
        }
        if let Some(poster) = &self.poster {
            embed = embed.thumbnail(poster);
        }
        embed
    }

    /// The card of a session the channel stopped watching: buttons off, the link still there.
    pub fn stopped(mut self, position: f64) -> Self {
        self.status = format!(
            "⏹️ Stopped at {}. The session stays open on the web.",
            clock_time(position)
        );
        self.playing = false;
        self.has_next = false;
        self.ended = true;
        self
    }

    /// Pause/resume, skip and open buttons.
    pub fn components(&self, session: &str) -> Vec<serenity::CreateActionRow> {
        let toggle = if self.playing {
            serenity::CreateButton::new(Button::Toggle.custom_id(session))
                .label("Pause")
                .emoji('⏸')
                .style(serenity::ButtonStyle::Secondary)
        } else {
            serenity::CreateButton::new(Button::Toggle.custom_id(session))
                .label("Resume")
                .emoji('▶')
                .style(serenity::ButtonStyle::Primary)
        };
        vec![serenity::CreateActionRow::Buttons(vec![
            toggle.disabled(self.ended),
            serenity::CreateButton::new(Button::Skip.custom_id(session))
                .label("Skip")
                .emoji('⏭')
                .style(serenity::ButtonStyle::Secondary)
                .disabled(!self.has_next),
            serenity::CreateButton::new_link(&self.url).label("Open"),
        ])]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use marquee_sync::{Command, Member, Role};

    fn session() -> Session {
        let host = Member {
            id: "discord-1".into(),
            name: "Ana".into(),
            role: Role::Host,
            connections: 0,
            buffering: false,
            joined_at: 0.0,
            last_command: 0,
            rtt_ms: 0.0,
            left_at: 0.0,
        };
        Session::new("abc", host, ("101".into(), "Harbor Lights".into()), 1_000.0).unwrap()
    }

    fn playable() -> Playable {
        Playable {
            rating_key: "101".into(),
            title: "Harbor Lights".into(),
            duration_ms: Some(120_000),
            poster: Some("/img/p.jpg".into()),
        }
    }

    #[test]
    fn the_card_follows_the_session() {
        let mut s = session();
        let c = card(&s, Some(&playable()), None, "https://m.example/", 1_000.0);
        assert_eq!(c.status, "⏸️ Paused at 0:00 / 2:00");
        assert_eq!(c.url, "https://m.example/session/abc");
        assert_eq!(c.poster.as_deref(), Some("https://m.example/img/p.jpg"));
        assert!(!c.has_next && !c.playing);
        assert!(c.watching.starts_with("Nobody"));

        s.apply("discord-1", &Command::Play, 1_000.0).unwrap();
        s.apply(
            "discord-1",
            &Command::QueueAdd {
                rating_key: "102".into(),
                title: "Copper Sky".into(),
            },
            1_000.0,
        )
        .unwrap();
        s.join(None, "w1", "Ben", 2_000.0).unwrap();
        let at = s.playback.at + 42_000.0;
        let c = card(
            &s,
            Some(&playable()),
            Some("Ana pressed play"),
            "http://x",
            at,
        );
        assert!(
            c.status.starts_with("▶️ Playing · 0:42 / 2:00 · ends <t:"),
            "{}",
            c.status
        );
        assert_eq!(c.up_next.as_deref(), Some("Copper Sky"));
        assert_eq!(c.watching, "Ben");
        assert!(c.playing && c.has_next);
    }

    #[test]
    fn button_ids_round_trip_and_junk_is_ignored() {
        let id = Button::Skip.custom_id("abc123");
        assert_eq!(Button::parse(&id), Some((Button::Skip, "abc123")));
        assert_eq!(
            Button::parse("mq:toggle:abc"),
            Some((Button::Toggle, "abc"))
        );
        assert_eq!(Button::parse("mq:explode:abc"), None);
        assert_eq!(Button::parse("mq:skip:../../x"), None);
        assert_eq!(Button::parse("other"), None);
    }
}
