//! Keeps now-playing cards current: listens to every session change on the event bus (whoever
//! made it: bot, web page or Activity) and edits the cards of the affected sessions.
//!
//! Changes are coalesced per session and a card is edited at most once per [`MIN_EDIT_GAP`], which
//! stays well inside Discord's per-channel rate limit while a group scrubs through a film.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use marquee_store::sessions::now_ms;
use marquee_store::{ChannelLink, SessionEvent};
use marquee_sync::{Actor, Change, Session};
use poise::serenity_prelude as serenity;
use tokio::sync::{Notify, broadcast};

use crate::now_playing::{self, Card};
use crate::service::BotService;

/// Changes arriving this close together make one edit.
const COALESCE: Duration = Duration::from_millis(250);
/// Fewest time between two edits of one session's cards.
const MIN_EDIT_GAP: Duration = Duration::from_secs(1);
/// A follower with nothing to do for this long stops (a new change starts another).
const IDLE: Duration = Duration::from_secs(600);

/// The last change worth naming on a card ("Ben paused").
type Named = (Option<Actor>, Change);

#[derive(Default)]
struct Follower {
    wake: Notify,
    /// Events seen for this session; lets an idle follower tell whether one arrived as it stopped.
    events: AtomicU64,
    last: Mutex<Option<Named>>,
}

struct Live {
    service: BotService,
    http: Arc<serenity::Http>,
    followers: Mutex<HashMap<String, Arc<Follower>>>,
}

/// Starts following session changes; the task ends when the bus closes.
pub(crate) fn spawn(service: BotService, http: Arc<serenity::Http>) -> tokio::task::JoinHandle<()> {
    let mut events = service.sessions.bus().subscribe();
    let live = Arc::new(Live {
        service,
        http,
        followers: Mutex::default(),
    });
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(event) => live.on_event(&event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "now-playing cards fell behind the session events"
                    );
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    })
}

impl Live {
    fn followers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Follower>>> {
        self.followers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn on_event(self: &Arc<Self>, event: &SessionEvent) {
        let named = event
            .changes
            .iter()
            .rev()
            .find(|c| {
                !matches!(
                    c,
                    Change::MemberUpdated { .. } | Change::HostElsewhere { .. }
                )
            })
            .map(|c| (event.by.clone(), c.clone()));
        let mut followers = self.followers();
        let follower = followers.entry(event.session.clone()).or_insert_with(|| {
            let follower = Arc::new(Follower::default());
            tokio::spawn(Arc::clone(self).follow(event.session.clone(), Arc::clone(&follower)));
            follower
        });
        if let Some(named) = named {
            *follower.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(named);
        }
        follower.events.fetch_add(1, Ordering::SeqCst);
        follower.wake.notify_one();
    }

    async fn follow(self: Arc<Self>, session: String, follower: Arc<Follower>) {
        let mut last_action: Option<String> = None;
        let mut last_card: Option<Card> = None;
        let mut moment: Option<f64> = None;
        loop {
            let seen = follower.events.load(Ordering::SeqCst);
            // Wake for a change, or when the card changes by itself (an intro, "Up next").
            let until_moment = moment
                .map(|at| Duration::from_secs_f64(((at - now_ms()).max(0.0) + 50.0) / 1000.0));
            let wait = until_moment.map_or(IDLE, |d| d.min(IDLE));
            if tokio::time::timeout(wait, follower.wake.notified())
                .await
                .is_err()
            {
                if moment.is_some_and(|at| at <= now_ms()) {
                    moment = None;
                } else {
                    let mut followers = self.followers();
                    if follower.events.load(Ordering::SeqCst) == seen {
                        followers.remove(&session);
                        return;
                    }
                    continue;
                }
            }
            tokio::time::sleep(COALESCE).await;
            let started = tokio::time::Instant::now();
            let named = follower
                .last
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            match self
                .refresh(&session, named, &mut last_action, &mut last_card)
                .await
            {
                Ok(next) => moment = next,
                Err(e) => {
                    tracing::warn!(session, error = %e, "could not update a now-playing card")
                }
            }
            tokio::time::sleep_until(started + MIN_EDIT_GAP).await;
        }
    }

    async fn refresh(
        &self,
        id: &str,
        named: Option<Named>,
        last_action: &mut Option<String>,
        last_card: &mut Option<Card>,
    ) -> Result<Option<f64>, crate::BotError> {
        let links: Vec<ChannelLink> = self
            .service
            .store
            .channel_links_of_session(id)
            .await?
            .into_iter()
            .filter(|l| l.np_message_id.is_some())
            .collect();
        if links.is_empty() {
            return Ok(None);
        }
        let Some(session) = self.service.sessions.get(id).await? else {
            return Ok(None);
        };
        let moment = now_playing::next_moment(&session, now_ms());
        if let Some((by, change)) = named
            && let Some(text) = marquee_sync::session::describe(by.as_ref(), &change, &session)
        {
            *last_action = Some(text);
        }
        let card = build_card(&self.service, &session, last_action.as_deref()).await;
        if last_card.as_ref() == Some(&card) {
            return Ok(moment);
        }
        for link in &links {
            edit_card(&self.http, link, &card, &session.id).await?;
        }
        *last_card = Some(card);
        Ok(moment)
    }
}

/// The card for a session now.
pub(crate) async fn build_card(
    service: &BotService,
    session: &Session,
    last_action: Option<&str>,
) -> Card {
    let current = service.current_playable(session).await;
    now_playing::card(
        session,
        current.as_ref(),
        last_action,
        &service.public_url,
        now_ms(),
    )
}

/// Edits a link's card message, if it has one.
pub(crate) async fn edit_card(
    http: &serenity::Http,
    link: &ChannelLink,
    card: &Card,
    session: &str,
) -> Result<(), serenity::Error> {
    let id = |v: &Option<String>| {
        v.as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|n| *n != 0)
    };
    let (Some(channel), Some(message)) = (id(&link.np_channel_id), id(&link.np_message_id)) else {
        return Ok(());
    };
    serenity::ChannelId::new(channel)
        .edit_message(
            http,
            serenity::MessageId::new(message),
            serenity::EditMessage::new()
                .embed(card.embed())
                .components(card.components(session)),
        )
        .await?;
    Ok(())
}
