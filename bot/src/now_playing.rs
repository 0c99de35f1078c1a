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
    /// Skip the intro the group is in (shown while one is).
    SkipIntro,
}

impl Button {
    fn id(self) -> &'static str {
        match self {
            Button::Toggle => "toggle",
            Button::Skip => "skip",
            Button::SkipIntro => "intro",
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
        let button = [Button::Toggle, Button::Skip, Button::SkipIntro]
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
    /// The group is in an intro: offer "Skip intro".
    pub in_intro: bool,
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
    let position = session.duration().map_or(position, |d| position.min(d));
    let status = if entry.is_none() {
        "The queue has ended.".to_owned()
    } else if session.ending.finished {
        format!("✅ Finished · {}{of_total}", clock_time(position))
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
    let next = session.up_next();
    // While the next item will start by itself, say when (Discord counts it down live).
    let starts = session
        .countdown()
        .filter(|_| session.playback.playing && session.wait.is_none())
        .map(|c| {
            let in_ms = (c.until - position).max(0.0) * 1000.0 / session.playback.rate;
            format!(
                " · starts <t:{}:R>",
                ((now_ms + in_ms) / 1000.0).round() as i64
            )
        });
    let in_intro = !session.ending.finished
        && session
            .marker_at(position)
            .is_some_and(|m| m.kind == marquee_sync::MarkerKind::Intro);
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
        up_next: next
            .as_ref()
            .map(|n| format!("{}{}", n.display(), starts.unwrap_or_default())),
        watching,
        poster: current
            .and_then(|p| p.poster.as_deref())
            .map(|p| format!("{}{p}", public_url.trim_end_matches('/'))),
        playing: session.playback.playing,
        has_next: next.is_some(),
        ended: entry.is_none(),
        in_intro,
    }
}

/// The next server instant at which the card of a playing group changes by itself (an intro
/// begins or ends, the "Up next" countdown begins), so the card can be edited then.
pub fn next_moment(session: &Session, now_ms: f64) -> Option<f64> {
    let line = session.playback;
    if !line.playing || session.wait.is_some() || session.ending.finished || line.rate <= 0.0 {
        return None;
    }
    let base = now_ms.max(line.at);
    let position = line.position_at(base);
    let intros = session
        .current_entry()
        .and_then(|e| e.info.as_ref())
        .map(|i| {
            i.markers
                .iter()
                .filter(|m| m.kind == marquee_sync::MarkerKind::Intro)
                .flat_map(|m| [m.start, m.end])
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    intros
        .into_iter()
        .chain(session.countdown().map(|c| c.from))
        .filter(|p| *p > position)
        .filter_map(|p| line.reaches(p, now_ms))
        .reduce(f64::min)
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
        let mut buttons = vec![toggle.disabled(self.ended)];
        if self.in_intro {
            buttons.push(
                serenity::CreateButton::new(Button::SkipIntro.custom_id(session))
                    .label("Skip intro")
                    .style(serenity::ButtonStyle::Primary),
            );
        }
        buttons.extend([
            serenity::CreateButton::new(Button::Skip.custom_id(session))
                .label("Skip")
                .emoji('⏭')
                .style(serenity::ButtonStyle::Secondary)
                .disabled(!self.has_next),
            serenity::CreateButton::new_link(&self.url).label("Open"),
        ]);
        vec![serenity::CreateActionRow::Buttons(buttons)]
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
            resume_ms: None,
            poster: Some("/img/p.jpg".into()),
        }
    }

    #[test]
    fn the_card_offers_skip_intro_and_counts_down_to_the_next_episode() {
        use marquee_sync::{EntryInfo, Marker, MarkerKind, Suggestion};
        let mut s = session();
        s.describe_entry(
            1,
            EntryInfo {
                duration: 120.0,
                markers: vec![
                    Marker {
                        kind: MarkerKind::Intro,
                        start: 3.0,
                        end: 15.0,
                        last: false,
                    },
                    Marker {
                        kind: MarkerKind::Credits,
                        start: 108.0,
                        end: 120.0,
                        last: true,
                    },
                ],
                label: Some("S01E01".into()),
                next: Some(Suggestion {
                    rating_key: "2111".into(),
                    title: "The Long Street".into(),
                    label: Some("S01E02".into()),
                }),
                resume: None,
            },
        );
        s.apply("discord-1", &Command::Play, 1_000.0).unwrap();
        let start = s.playback.at;
        let before = card(&s, Some(&playable()), None, "http://x", start + 1_000.0);
        assert!(!before.in_intro);
        assert_eq!(next_moment(&s, start + 1_000.0), Some(start + 3_000.0));
        let intro = card(&s, Some(&playable()), None, "http://x", start + 5_000.0);
        assert!(intro.in_intro && intro.has_next);
        assert_eq!(next_moment(&s, start + 5_000.0), Some(start + 15_000.0));
        // Up next: the countdown runs from the final credits (1:48) to 1:58.
        assert_eq!(next_moment(&s, start + 20_000.0), Some(start + 108_000.0));
        let c = card(&s, Some(&playable()), None, "http://x", start + 110_000.0);
        let when = ((start + 118_000.0) / 1000.0).round() as i64;
        assert_eq!(
            c.up_next.as_deref(),
            Some(format!("S01E02 · The Long Street · starts <t:{when}:R>").as_str())
        );
        assert!(!c.in_intro);
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
