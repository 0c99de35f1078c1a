//! The bot's side of Marquee: finding a voice channel's session, checking who may drive it, and
//! changing it through the same session store the web page uses. No Discord types here beyond
//! ids, so every rule can be read (and tested) on its own.

use std::sync::Arc;
use std::time::Duration;

use marquee_store::sessions::now_ms;
use marquee_store::{ChannelLink, NewChannelLink, SessionStore, Store};
use marquee_sync::{Command, Member, MemberId, Role, Session, member};

use crate::catalog::{Catalog, CatalogError, Playable, Title};
use crate::error::BotError;
use crate::permissions::{self, Asker, ControlPolicy, Hosts};

/// Longest the bot waits for Plex before answering that it is unavailable: Discord gives an
/// interaction three seconds to be answered.
pub const PLEX_BUDGET: Duration = Duration::from_millis(2_500);

/// Value prefix of autocomplete choices: `/play` receives `rk:<ratingKey>` when a suggestion was
/// picked, or the typed text when it was not.
pub const CHOICE_PREFIX: &str = "rk:";

/// Who ran a command, as far as Marquee cares.
#[derive(Debug, Clone)]
pub struct Invoker {
    pub user_id: u64,
    pub name: String,
    pub roles: Vec<u64>,
    pub guild_id: u64,
    /// The voice channel they are in, if any (from the gateway's voice states).
    pub voice_channel: Option<u64>,
}

impl Invoker {
    /// Their member id in sessions.
    pub fn member_id(&self) -> MemberId {
        member::discord(self.user_id)
    }

    fn voice(&self) -> Result<u64, BotError> {
        self.voice_channel.ok_or(BotError::NotInVoice)
    }
}

/// A voice channel's session, loaded.
#[derive(Debug, Clone)]
pub struct Linked {
    pub link: ChannelLink,
    pub session: Session,
}

/// What the bot needs from the rest of Marquee. Cheap to clone.
#[derive(Clone)]
pub struct BotService {
    pub catalog: Arc<dyn Catalog>,
    pub sessions: SessionStore,
    pub store: Store,
    /// Base URL people open (and Discord fetches posters from), without a trailing slash.
    pub public_url: String,
    /// Whether the Discord application has an Activity to launch from `/watch`.
    pub activity: bool,
}

/// How a session started from Discord begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// Playing, from the start (`/play`).
    FromStart,
    /// Playing, from where Plex left off when it has a resume point (`/play … resume:True`).
    Resume,
    /// For someone looking at the player (the Activity): paused at the start when Plex has a
    /// resume point, so they choose *Resume* or *Start over*; playing otherwise.
    Offer,
}

impl BotService {
    /// Runs a library lookup within [`PLEX_BUDGET`].
    async fn library<T>(
        &self,
        lookup: impl Future<Output = Result<T, CatalogError>>,
    ) -> Result<T, BotError> {
        match tokio::time::timeout(PLEX_BUDGET, lookup).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(BotError::PlexUnavailable(
                "it did not answer in time".into(),
            )),
        }
    }

    /// Autocomplete suggestions for what has been typed so far.
    pub async fn suggest(&self, typed: &str, limit: usize) -> Result<Vec<Title>, BotError> {
        let index = self.library(self.catalog.titles()).await?;
        Ok(index.suggest(typed, limit).into_iter().cloned().collect())
    }

    /// Plex search, for `/search`.
    pub async fn search(&self, query: &str) -> Result<Vec<Title>, BotError> {
        let query = query.trim();
        if query.is_empty() {
            return Err(BotError::BadInput("Type something to search for.".into()));
        }
        self.library(self.catalog.search(query)).await
    }

    /// What `/play` or `/queue add` was given: a picked suggestion (`rk:<key>`) or free text.
    pub async fn resolve(&self, input: &str) -> Result<Playable, BotError> {
        let input = input.trim();
        let index = self.library(self.catalog.titles()).await?;
        if index.is_empty() {
            return Err(BotError::EmptyLibrary);
        }
        let key = match input.strip_prefix(CHOICE_PREFIX) {
            Some(key) => key.to_owned(),
            None => index
                .best(input)
                .ok_or_else(|| BotError::UnknownTitle(shorten(input)))?
                .rating_key
                .clone(),
        };
        match self.library(self.catalog.playable(&key)).await {
            Err(BotError::UnknownTitle(_)) | Err(BotError::BadInput(_)) => {
                Err(BotError::UnknownTitle(shorten(input)))
            }
            other => other,
        }
    }

    /// Details of a session's current item (cached), for the now-playing card; `None` when
    /// nothing is current or the library cannot say right now.
    pub async fn current_playable(&self, session: &Session) -> Option<Playable> {
        let entry = session.current_entry()?;
        match self.library(self.catalog.playable(&entry.rating_key)).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::debug!(error = %e, "no details for the now-playing card");
                None
            }
        }
    }

    /// The session of the invoker's voice channel.
    pub async fn linked(&self, invoker: &Invoker) -> Result<Linked, BotError> {
        self.linked_channel(invoker.voice()?).await
    }

    /// The session of a voice channel. A link to a session that no longer exists is removed and
    /// reported as [`BotError::SessionGone`].
    pub async fn linked_channel(&self, voice: u64) -> Result<Linked, BotError> {
        let link = self
            .store
            .channel_link(&voice.to_string())
            .await?
            .ok_or(BotError::NoSession(voice))?;
        match self.sessions.get(&link.session_id).await? {
            Some(session) => Ok(Linked { link, session }),
            None => {
                self.store
                    .remove_channel_link(&link.voice_channel_id, &link.session_id)
                    .await?;
                Err(BotError::SessionGone)
            }
        }
    }

    /// The guild's control policy (default: everyone).
    pub async fn policy(&self, guild_id: u64) -> Result<ControlPolicy, BotError> {
        let value = self
            .store
            .get_preference(&guild_scope(guild_id), permissions::PREFERENCE_KEY)
            .await?;
        Ok(match value {
            Some(v) => serde_json::from_value(v).unwrap_or_else(|e| {
                tracing::warn!(guild_id, error = %e, "unreadable control policy; using the default");
                ControlPolicy::default()
            }),
            None => ControlPolicy::default(),
        })
    }

    /// Stores the guild's control policy.
    pub async fn set_policy(&self, guild_id: u64, policy: &ControlPolicy) -> Result<(), BotError> {
        let value = serde_json::to_value(policy).map_err(|e| BotError::Internal(e.to_string()))?;
        self.store
            .set_preference(&guild_scope(guild_id), permissions::PREFERENCE_KEY, &value)
            .await?;
        Ok(())
    }

    /// Refuses (with the reason) if the invoker may not drive this session.
    pub async fn authorize(&self, invoker: &Invoker, linked: &Linked) -> Result<(), BotError> {
        let policy = self.policy(invoker.guild_id).await?;
        let session = &linked.session;
        let host = session.host();
        let owner = session.member(&member::discord(&linked.link.owner_discord_id));
        let mut names: Vec<String> = owner
            .iter()
            .chain(host.iter())
            .map(|m| m.name.clone())
            .collect();
        names.dedup();
        let hosts = Hosts {
            owner: linked.link.owner_discord_id.parse().ok(),
            host: host
                .and_then(|h| member::discord_user_id(&h.id))
                .and_then(|id| id.parse().ok()),
            names,
        };
        let asker = Asker {
            user_id: invoker.user_id,
            roles: &invoker.roles,
        };
        permissions::check(&policy, &asker, &hosts).map_err(BotError::NotAllowed)?;
        // The session's own setting binds Discord too: a host who chose "host only" on the web
        // page is not overruled from the voice channel. A holder of the server's control role
        // counts as a co-host.
        let in_session = session
            .member(&invoker.member_id())
            .map_or(Role::Viewer, |m| m.role);
        let role = match policy {
            ControlPolicy::Role { role_id }
                if in_session == Role::Viewer && invoker.roles.contains(&role_id) =>
            {
                Role::CoHost
            }
            _ => in_session,
        };
        if session.control.allows(role) {
            Ok(())
        } else {
            Err(BotError::NotAllowed(session.control.refusal().to_owned()))
        }
    }

    /// Starts a session in the invoker's voice channel with `item`, as `begin` says, with the
    /// invoker as host. The session and its link are written together: if linking fails the
    /// session is removed again, so no orphan is left behind.
    pub async fn start(
        &self,
        invoker: &Invoker,
        item: &Playable,
        begin: Begin,
    ) -> Result<Linked, BotError> {
        let voice = invoker.voice()?;
        let now = now_ms();
        let host = Member {
            id: invoker.member_id(),
            name: display_name(&invoker.name),
            role: Role::Host,
            connections: 0,
            buffering: false,
            joined_at: now,
            last_command: 0,
            rtt_ms: 0.0,
            left_at: 0.0,
        };
        let mut session = Session::new(
            marquee_store::db::new_session_id(),
            host,
            (item.rating_key.clone(), item.title.clone()),
            now,
        )?;
        session.control = match self.policy(invoker.guild_id).await? {
            ControlPolicy::Everyone => marquee_sync::Control::Everyone,
            ControlPolicy::Role { .. } => marquee_sync::Control::HostAndCoHosts,
            ControlPolicy::Host => marquee_sync::Control::HostOnly,
        };
        // The host drives from the voice channel: opening the page or the Activity first must
        // not make someone else host.
        session.host_elsewhere = true;
        let offer = begin == Begin::Offer && item.resume_ms.is_some();
        if !offer {
            session.apply(&invoker.member_id(), &Command::Play, now)?;
        }
        if let Some(ms) = item.resume_ms.filter(|_| begin == Begin::Resume) {
            let position = ms as f64 / 1000.0;
            session.apply(&invoker.member_id(), &Command::Seek { position }, now)?;
        }
        let session = self.sessions.create(&session, None).await?;
        let link = NewChannelLink {
            voice_channel_id: voice.to_string(),
            guild_id: invoker.guild_id.to_string(),
            session_id: session.id.clone(),
            owner_discord_id: invoker.user_id.to_string(),
        };
        match self.store.put_channel_link(&link).await {
            Ok(link) => {
                tracing::info!(session = %session.id, voice, "watch session started from Discord");
                Ok(Linked { link, session })
            }
            Err(e) => {
                if let Err(undo) = self.store.delete_session(&session.id).await {
                    tracing::error!(session = %session.id, error = %undo, "could not remove an unlinked session");
                }
                Err(e.into())
            }
        }
    }

    /// Applies `command` for the invoker (enrolled as a member under their Discord name, so the
    /// web page shows "Ana paused"). Enrolment and command are one write.
    pub async fn drive(
        &self,
        invoker: &Invoker,
        linked: &Linked,
        command: Command,
    ) -> Result<Session, BotError> {
        let member = invoker.member_id();
        let name = display_name(&invoker.name);
        let updated = self
            .sessions
            .update(&linked.session.id, Some(member.as_str()), |s| {
                let now = now_ms();
                let mut changes = s.enrol(&member, &name, now)?;
                // The guild's policy (checked in `authorize`, with the Discord roles the session
                // cannot see) is the authority for Discord users.
                changes.extend(s.apply_authorized(&member, &command, now)?);
                Ok((changes, ()))
            })
            .await?;
        self.store
            .record_audit_later(marquee_store::NewAuditEvent::command(
                &linked.session.id,
                &member,
                &name,
                &command,
            ));
        Ok(updated.session)
    }

    /// Ends the channel's session for Discord: pauses it and unlinks the channel. The session
    /// itself stays, so people on the web page can carry on and nothing is lost.
    pub async fn stop(&self, invoker: &Invoker, linked: &Linked) -> Result<Session, BotError> {
        let session = if linked.session.playback.playing {
            self.drive(invoker, linked, Command::Pause).await?
        } else {
            linked.session.clone()
        };
        self.store
            .remove_channel_link(&linked.link.voice_channel_id, &linked.link.session_id)
            .await?;
        tracing::info!(session = %session.id, "watch session unlinked from its voice channel");
        Ok(session)
    }

    /// `user_id` left voice channel `channel`. If they are the host of its session, driving from
    /// Discord, the host role follows the page's rules from now on: it passes to someone on the
    /// page, so a session is not left with a host who went away.
    pub async fn left_voice(&self, user_id: u64, channel: u64) -> Result<(), BotError> {
        let linked = match self.linked_channel(channel).await {
            Ok(linked) => linked,
            Err(BotError::NoSession(_) | BotError::SessionGone) => return Ok(()),
            Err(e) => return Err(e),
        };
        let member = member::discord(user_id);
        let hosts = |s: &Session| s.host_elsewhere && s.host().is_some_and(|h| h.id == member);
        if !hosts(&linked.session) {
            return Ok(());
        }
        let updated = self
            .sessions
            .update(&linked.session.id, None, |s| {
                let changes = if hosts(s) {
                    s.host_left_elsewhere()
                } else {
                    Vec::new()
                };
                Ok((changes, ()))
            })
            .await?;
        tracing::info!(session = %linked.session.id, channel, host = ?updated.session.host().map(|h| &h.id), "the host left the voice channel; the host role follows the page now");
        Ok(())
    }

    /// Remembers the message that shows the channel's session, so it can be kept up to date.
    pub async fn remember_card(
        &self,
        linked: &Linked,
        channel_id: u64,
        message_id: u64,
    ) -> Result<(), BotError> {
        self.store
            .set_now_playing_message(
                &linked.link.voice_channel_id,
                &linked.link.session_id,
                &channel_id.to_string(),
                &message_id.to_string(),
            )
            .await?;
        Ok(())
    }
}

/// The `preferences` scope of a guild.
pub fn guild_scope(guild_id: u64) -> String {
    format!("guild:{guild_id}")
}

/// A Discord display name that fits a session's name rules (32 characters).
pub(crate) fn display_name(name: &str) -> String {
    let name: String = name
        .trim()
        .chars()
        .take(marquee_sync::session::MAX_NAME_CHARS)
        .collect();
    if name.is_empty() {
        "Discord user".into()
    } else {
        name
    }
}

/// User text echoed in a reply, cut short.
fn shorten(text: &str) -> String {
    let mut t: String = text.chars().take(80).collect();
    if text.chars().count() > 80 {
        t.push('…');
    }
    t
}
