//! The watch-session model and its rules.
//!
//! A [`Session`] is the single source of truth the server keeps (and persists) for one group:
//! who is in it, what is queued, and where playback is. Playback is not "a position" but a
//! line through server time ([`Playback`]), so every viewer can compute where the group is at
//! any instant without trusting its own clock. Every accepted change bumps [`Session::version`]
//! and is described by [`Change`]s that the server broadcasts, so clients can follow with small
//! deltas and notice a gap (then ask for a snapshot).

use serde::{Deserialize, Serialize};

/// A member's id: random, handed out on join and kept by the browser to rejoin as the same
/// member after a reconnect (a Discord user id once sign-in lands).
pub type MemberId = String;

/// Longest display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// Longest queue accepted; beyond this a shared queue is a mistake, not a plan.
pub const MAX_QUEUE: usize = 500;
/// Playback rates a group may choose.
pub const RATE_RANGE: (f64, f64) = (0.5, 2.0);
/// How long the group waits for a buffering or loading member before carrying on.
pub const DEFAULT_WAIT_BOUND_MS: f64 = 8_000.0;
/// Shortest lead between a command and the instant it takes effect.
pub const MIN_LEAD_MS: f64 = 150.0;
/// Longest lead, whatever the members' round-trip times.
pub const MAX_LEAD_MS: f64 = 1_000.0;

/// A member's standing. The host sets who may drive ([`Control`]) and gives roles; co-hosts may
/// drive when the policy is "host and co-hosts".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Host,
    /// May drive when the session lets the host and co-hosts drive; the host promotes them.
    CoHost,
    Viewer,
}

/// Who may drive playback and the queue in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// Everyone in the session (the couch model).
    #[default]
    Everyone,
    /// The host and the co-hosts.
    HostAndCoHosts,
    /// The host alone.
    HostOnly,
}

impl Control {
    /// Whether a member with `role` may drive.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Control::Everyone => true,
            Control::HostAndCoHosts => matches!(role, Role::Host | Role::CoHost),
            Control::HostOnly => role == Role::Host,
        }
    }

    /// The refusal shown to someone this policy does not let drive.
    pub fn refusal(self) -> &'static str {
        match self {
            Control::Everyone => "",
            Control::HostAndCoHosts => {
                "Only the host and co-hosts can control playback in this session. Ask the host to make you a co-host."
            }
            Control::HostOnly => "Only the host can control playback in this session.",
        }
    }
}

/// One person in a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub id: MemberId,
    pub name: String,
    pub role: Role,
    /// Open connections (tabs); the member is online while this is above zero.
    pub connections: u32,
    /// The member reported a stalled or loading player.
    pub buffering: bool,
    /// Server time the member first joined; the longest-present member inherits the host role.
    pub joined_at: f64,
    /// Highest command id applied for this member, so a command replayed after a reconnect is
    /// acknowledged instead of applied twice.
    pub last_command: u64,
    /// The member's round-trip time to the server, as its clock sync measured it.
    pub rtt_ms: f64,
}

impl Member {
    /// Whether the member has at least one open connection.
    pub fn online(&self) -> bool {
        self.connections > 0
    }
}

/// Who made a change, as shown to everyone ("Ana paused").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    pub id: MemberId,
    pub name: String,
}

/// One queued Plex item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueEntry {
    /// Unique within the session, stable across moves.
    pub id: u64,
    /// Plex ratingKey.
    pub rating_key: String,
    pub title: String,
}

/// Where the group is: at server instant `at` the position is `position` seconds; while
/// `playing`, it advances at `rate` from there. `at` may lie a little in the future: that is a
/// scheduled change, and until then viewers keep following the previous line (see [`Timeline`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Playback {
    pub playing: bool,
    pub position: f64,
    pub at: f64,
    pub rate: f64,
}

impl Playback {
    /// A paused line at `position`.
    pub fn paused(position: f64, at: f64) -> Self {
        Self {
            playing: false,
            position,
            at,
            rate: 1.0,
        }
    }

    /// The group position at server time `t`, in seconds (never negative).
    pub fn position_at(&self, t: f64) -> f64 {
        if self.playing {
            (self.position + (t - self.at) / 1000.0 * self.rate).max(0.0)
        } else {
            self.position
        }
    }
}

/// Why the group is holding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// A member's player stalled mid-playback.
    Buffering,
    /// A new item is loading for everyone.
    Loading,
}

/// The group is paused, waiting for `members` until `deadline`, and resumes by itself when
/// they are ready (or the deadline passes) if `resume` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wait {
    pub members: Vec<MemberId>,
    pub deadline: f64,
    pub reason: WaitReason,
    pub resume: bool,
}

/// A request to change the session, from a member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    Play,
    Pause,
    Seek {
        position: f64,
    },
    SetRate {
        rate: f64,
    },
    Next,
    Previous,
    /// Start a queued entry now.
    PlayEntry {
        entry: u64,
    },
    QueueAdd {
        rating_key: String,
        title: String,
    },
    QueueRemove {
        entry: u64,
    },
    /// Move an entry to index `to` (clamped to the queue).
    /// The host gives `member` a role; giving the host role hands it over (the old host becomes a
    /// co-host).
    SetRole {
        member: MemberId,
        role: Role,
    },
    /// The host decides who may drive.
    SetControl {
        control: Control,
    },
    QueueMove {
        entry: u64,
        to: usize,
    },
}

impl Command {
    /// Whether the command's meaning depends on the state the sender saw (so it must be
    /// rejected if that state is stale). Play/pause/seek are absolute intentions; a queue index
    /// is not.
    pub fn needs_current_version(&self) -> bool {
        matches!(self, Command::QueueMove { .. })
    }

    /// Roles and the control policy: the host's business alone, whatever the policy.
    pub fn manages_members(&self) -> bool {
        matches!(self, Command::SetRole { .. } | Command::SetControl { .. })
    }
}

/// One effect of an accepted change; a broadcast carries the list so clients apply deltas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Playback moved to a new line (`cause` says why, for the "Ana paused" message).
    Playback {
        playback: Playback,
        wait: Option<Wait>,
        cause: Cause,
    },
    MemberJoined {
        member: Member,
    },
    /// Connection count, buffering flag or round-trip time changed.
    MemberUpdated {
        member: Member,
    },
    /// Who may drive changed.
    Control {
        control: Control,
    },
    HostChanged {
        host: MemberId,
    },
    /// Whether the host drives from Discord changed ([`Session::host_elsewhere`]).
    HostElsewhere {
        elsewhere: bool,
    },
    Queue {
        queue: Vec<QueueEntry>,
        current: Option<u64>,
    },
}

/// Why playback changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Cause {
    Play,
    Pause,
    Seek {
        from: f64,
        to: f64,
    },
    Rate {
        rate: f64,
    },
    /// The current entry changed (next, previous, picked, removed).
    Item {
        entry: Option<u64>,
    },
    /// The group holds for buffering members.
    Waiting,
    /// Everyone is ready again.
    Resumed,
    /// The wait bound passed; the group carried on without these members.
    CarriedOn {
        without: Vec<MemberId>,
    },
}

/// Why a command or report was refused. Nothing changed when one of these is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    #[error("you are not a member of this session")]
    UnknownMember,
    #[error("position {0} is not a valid time")]
    InvalidPosition(f64),
    #[error("rate {0} is outside 0.5–2.0")]
    InvalidRate(f64),
    #[error("there is nothing after this item in the queue")]
    NoNext,
    #[error("there is nothing before this item in the queue")]
    NoPrevious,
    #[error("queue entry {0} does not exist")]
    UnknownEntry(u64),
    #[error("the queue is full ({MAX_QUEUE} items)")]
    QueueFull,
    #[error("the queue is empty")]
    EmptyQueue,
    #[error("a display name must be 1–{MAX_NAME_CHARS} characters")]
    InvalidName,
    #[error("{0}")]
    InvalidInput(String),
    /// The member may not do this (see the message).
    #[error("{0}")]
    NotAllowed(String),
    #[error("the session changed since you last saw it (now at version {current})")]
    StaleVersion { current: u64 },
}

/// A watch session: the model the server persists and every client mirrors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub members: Vec<Member>,
    pub queue: Vec<QueueEntry>,
    /// Id of the queue entry being watched.
    pub current: Option<u64>,
    pub playback: Playback,
    pub wait: Option<Wait>,
    /// Increases by one with every accepted change.
    pub version: u64,
    pub created_at: f64,
    /// Next queue entry id.
    pub next_entry: u64,
    /// How long the group waits for buffering members, in ms.
    pub wait_bound_ms: f64,
    /// Who may drive (sessions stored before roles existed let everyone).
    #[serde(default)]
    pub control: Control,
    /// The host drives from elsewhere: the Discord voice channel where `/play` started the
    /// session. Then the host role does not pass to whoever connects first or stays longest
    /// while the host is away from the page (it would hand "host only" to a stranger).
    #[serde(default)]
    pub host_elsewhere: bool,
}

/// Whether `id` has the shape of a session id (short, letters and digits), so a malformed link
/// is refused before any lookup.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Trims a display name and checks its length.
pub fn clean_name(name: &str) -> Result<String, SessionError> {
    let name: String = name.trim().chars().filter(|c| !c.is_control()).collect();
    let n = name.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(SessionError::InvalidName);
    }
    Ok(name)
}

impl Session {
    /// A new, paused session hosted by `host`, with `first` as its only queue entry.
    pub fn new(
        id: impl Into<String>,
        host: Member,
        first: (String, String),
        now: f64,
    ) -> Result<Self, SessionError> {
        let mut host = host;
        host.name = clean_name(&host.name)?;
        host.role = Role::Host;
        host.joined_at = now;
        let title = first.1.clone();
        Ok(Self {
            id: id.into(),
            title,
            members: vec![host],
            queue: vec![QueueEntry {
                id: 1,
                rating_key: first.0,
                title: first.1,
            }],
            current: Some(1),
            playback: Playback::paused(0.0, now),
            wait: None,
            version: 0,
            created_at: now,
            next_entry: 2,
            wait_bound_ms: DEFAULT_WAIT_BOUND_MS,
            control: Control::Everyone,
            host_elsewhere: false,
        })
    }

    /// A member by id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.id == id)
    }

    /// The current host, if any.
    pub fn host(&self) -> Option<&Member> {
        self.members.iter().find(|m| m.role == Role::Host)
    }

    /// The queue entry being watched.
    pub fn current_entry(&self) -> Option<&QueueEntry> {
        let id = self.current?;
        self.queue.iter().find(|e| e.id == id)
    }

    /// Who is shown as having made a change.
    pub fn actor(&self, id: &str) -> Option<Actor> {
        self.member(id).map(|m| Actor {
            id: m.id.clone(),
            name: m.name.clone(),
        })
    }

    /// The lead between accepting a command and the instant it takes effect: long enough for
    /// the slowest online member to receive it first.
    pub fn lead_ms(&self) -> f64 {
        let max_rtt = self
            .members
            .iter()
            .filter(|m| m.online())
            .map(|m| m.rtt_ms)
            .fold(0.0_f64, f64::max);
        (max_rtt * 1.5 + 50.0).clamp(MIN_LEAD_MS, MAX_LEAD_MS)
    }

    /// Adds a member (or brings one back): never touches playback, so a late joiner cannot
    /// disturb the others. Returns the member id and the changes.
    pub fn join(
        &mut self,
        existing: Option<&str>,
        new_id: impl Into<String>,
        name: &str,
        now: f64,
    ) -> Result<(MemberId, Vec<Change>), SessionError> {
        let name = clean_name(name)?;
        if let Some(id) = existing
            && let Some(m) = self.member_mut(id)
        {
            m.connections += 1;
            m.name = name;
            m.buffering = false;
            let member = m.clone();
            let mut changes = vec![Change::MemberUpdated { member }];
            changes.extend(self.claim_vacant_host(id));
            self.version += 1;
            return Ok((id.to_owned(), changes));
        }
        let role = if self.host().is_none() {
            Role::Host
        } else {
            Role::Viewer
        };
        let member = Member {
            id: new_id.into(),
            name,
            role,
            connections: 1,
            buffering: false,
            joined_at: now,
            last_command: 0,
            rtt_ms: 0.0,
        };
        self.members.push(member.clone());
        let mut changes = vec![Change::MemberJoined {
            member: member.clone(),
        }];
        changes.extend(self.claim_vacant_host(&member.id));
        self.version += 1;
        Ok((member.id, changes))
    }

    /// Makes a viewer a co-host on an outside authority's word: the Discord server's control
    /// role, which the session cannot see (the server checks it with Discord as they join). Hosts
    /// and co-hosts stay as they are.
    pub fn grant_co_host(&mut self, id: &str) -> Result<Vec<Change>, SessionError> {
        let m = self.member_mut(id).ok_or(SessionError::UnknownMember)?;
        if m.role != Role::Viewer {
            return Ok(Vec::new());
        }
        m.role = Role::CoHost;
        let member = m.clone();
        self.version += 1;
        Ok(vec![Change::MemberUpdated { member }])
    }

    /// Makes sure `id` is a member, without connecting them: someone who drives the session from
    /// elsewhere (a Discord command) needs a name for "Ana paused" but is not watching here.
    /// Returns the changes (none if they were already a member under that name).
    pub fn enrol(&mut self, id: &str, name: &str, now: f64) -> Result<Vec<Change>, SessionError> {
        let name = clean_name(name)?;
        if let Some(m) = self.member_mut(id) {
            if m.name == name {
                return Ok(Vec::new());
            }
            m.name = name;
            let member = m.clone();
            self.version += 1;
            return Ok(vec![Change::MemberUpdated { member }]);
        }
        let member = Member {
            id: id.to_owned(),
            name,
            role: Role::Viewer,
            connections: 0,
            buffering: false,
            joined_at: now,
            last_command: 0,
            rtt_ms: 0.0,
        };
        self.members.push(member.clone());
        self.version += 1;
        Ok(vec![Change::MemberJoined { member }])
    }

    /// A host who is not connected (left while alone, or never came) hands the role to whoever
    /// arrives, so a session is never stuck without someone in charge.
    fn claim_vacant_host(&mut self, id: &str) -> Option<Change> {
        let vacant = !self.host_elsewhere && self.host().is_some_and(|h| !h.online() && h.id != id);
        if !vacant {
            return None;
        }
        self.make_host(id);
        Some(Change::HostChanged {
            host: id.to_owned(),
        })
    }

    /// A connection of `id` closed. When the host's last connection goes, the host role passes
    /// to the longest-present online member, so the session never dies with its host (unless
    /// the host drives from Discord: [`Session::host_elsewhere`]).
    pub fn disconnect(&mut self, id: &str, now: f64) -> Result<Vec<Change>, SessionError> {
        let m = self.member_mut(id).ok_or(SessionError::UnknownMember)?;
        m.connections = m.connections.saturating_sub(1);
        if m.connections == 0 {
            m.buffering = false;
        }
        let member = m.clone();
        let mut changes = vec![Change::MemberUpdated {
            member: member.clone(),
        }];
        if !member.online() && member.role == Role::Host && !self.host_elsewhere {
            changes.extend(self.pass_host_on(&member.id));
        }
        changes.extend(self.settle_wait(now));
        self.version += 1;
        Ok(changes)
    }

    /// Gives the host role of `from` (not connected) to the longest-present online member, if
    /// anyone is here.
    fn pass_host_on(&mut self, from: &str) -> Option<Change> {
        let heir = self
            .members
            .iter()
            .filter(|m| m.online() && m.id != from)
            .min_by(|a, b| a.joined_at.total_cmp(&b.joined_at))
            .map(|m| m.id.clone())?;
        self.make_host(&heir);
        Some(Change::HostChanged { host: heir })
    }

    /// The host who drove from Discord left the voice channel: from now on the role follows the
    /// page's rules. If the host is not on the page either, it passes at once to the
    /// longest-present online member, or else to whoever arrives next. Nothing changes for a
    /// session whose host was not driving from Discord.
    pub fn host_left_elsewhere(&mut self) -> Vec<Change> {
        if !self.host_elsewhere {
            return Vec::new();
        }
        self.host_elsewhere = false;
        self.version += 1;
        let mut changes = vec![Change::HostElsewhere { elsewhere: false }];
        if let Some(h) = self.host().filter(|h| !h.online()) {
            let from = h.id.clone();
            changes.extend(self.pass_host_on(&from));
        }
        changes
    }

    /// Applies a member's command at server time `now`. On error nothing changed.
    pub fn apply(
        &mut self,
        actor: &str,
        command: &Command,
        now: f64,
    ) -> Result<Vec<Change>, SessionError> {
        let role = self.member(actor).ok_or(SessionError::UnknownMember)?.role;
        if !self.control.allows(role) && !command.manages_members() {
            return Err(SessionError::NotAllowed(self.control.refusal().into()));
        }
        self.apply_authorized(actor, command, now)
    }

    /// [`Session::apply`] for a driver someone else already authorised (the Discord bot checks
    /// its guild's policy, including Discord roles the session cannot see).
    pub fn apply_authorized(
        &mut self,
        actor: &str,
        command: &Command,
        now: f64,
    ) -> Result<Vec<Change>, SessionError> {
        let role = self.member(actor).ok_or(SessionError::UnknownMember)?.role;
        if command.manages_members() && role != Role::Host {
            return Err(SessionError::NotAllowed(
                "Only the host can change roles and who may drive.".into(),
            ));
        }
        let lead = self.lead_ms();
        let at = now + lead;
        let current = self.playback;
        let changes = match command {
            Command::Play | Command::Pause => {
                // An explicit play or pause also ends any wait for buffering members.
                self.wait = None;
                let playing = matches!(command, Command::Play);
                self.set_playback(
                    Playback {
                        playing,
                        position: current.position_at(at),
                        at,
                        rate: current.rate,
                    },
                    if playing { Cause::Play } else { Cause::Pause },
                )
            }
            Command::Seek { position } => {
                if !position.is_finite() || *position < 0.0 {
                    return Err(SessionError::InvalidPosition(*position));
                }
                let from = current.position_at(at);
                let playing = current.playing || self.wait.as_ref().is_some_and(|w| w.resume);
                self.set_playback(
                    Playback {
                        playing: playing && self.wait.is_none(),
                        position: *position,
                        at,
                        rate: current.rate,
                    },
                    Cause::Seek {
                        from,
                        to: *position,
                    },
                )
            }
            Command::SetRate { rate } => {
                if !rate.is_finite() || *rate < RATE_RANGE.0 || *rate > RATE_RANGE.1 {
                    return Err(SessionError::InvalidRate(*rate));
                }
                let position = current.position_at(at);
                self.set_playback(
                    Playback {
                        rate: *rate,
                        position,
                        at,
                        ..current
                    },
                    Cause::Rate { rate: *rate },
                )
            }
            Command::Next => {
                let idx = self.current_index().ok_or(SessionError::EmptyQueue)?;
                let next = self.queue.get(idx + 1).ok_or(SessionError::NoNext)?.id;
                self.start_entry(Some(next), now)
            }
            Command::Previous => {
                let idx = self.current_index().ok_or(SessionError::EmptyQueue)?;
                let prev = idx
                    .checked_sub(1)
                    .and_then(|i| self.queue.get(i))
                    .ok_or(SessionError::NoPrevious)?
                    .id;
                self.start_entry(Some(prev), now)
            }
            Command::PlayEntry { entry } => {
                if !self.queue.iter().any(|e| e.id == *entry) {
                    return Err(SessionError::UnknownEntry(*entry));
                }
                self.start_entry(Some(*entry), now)
            }
            Command::QueueAdd { rating_key, title } => {
                if self.queue.len() >= MAX_QUEUE {
                    return Err(SessionError::QueueFull);
                }
                let valid_key = !rating_key.is_empty()
                    && rating_key.len() <= 32
                    && rating_key.chars().all(|c| c.is_ascii_alphanumeric());
                if !valid_key {
                    return Err(SessionError::InvalidInput(
                        "a queue item needs a Plex rating key".into(),
                    ));
                }
                let title: String = title.chars().take(200).collect();
                let id = self.next_entry;
                self.next_entry += 1;
                self.queue.push(QueueEntry {
                    id,
                    rating_key: rating_key.clone(),
                    title,
                });
                if self.current.is_none() {
                    self.start_entry(Some(id), now)
                } else {
                    vec![self.queue_change()]
                }
            }
            Command::QueueRemove { entry } => {
                let idx = self
                    .queue
                    .iter()
                    .position(|e| e.id == *entry)
                    .ok_or(SessionError::UnknownEntry(*entry))?;
                self.queue.remove(idx);
                if self.current == Some(*entry) {
                    let next = self.queue.get(idx).map(|e| e.id);
                    self.start_entry(next, now)
                } else {
                    vec![self.queue_change()]
                }
            }
            Command::SetControl { control } => {
                self.control = *control;
                vec![Change::Control { control: *control }]
            }
            Command::SetRole { member, role } => {
                if self.member(member).is_none() {
                    return Err(SessionError::UnknownMember);
                }
                if member == actor {
                    return Err(SessionError::NotAllowed(
                        "Hand the host role to someone else instead of changing your own.".into(),
                    ));
                }
                if *role == Role::Host {
                    for m in &mut self.members {
                        if m.role == Role::Host {
                            m.role = Role::CoHost;
                        }
                    }
                }
                if let Some(m) = self.member_mut(member) {
                    m.role = *role;
                }
                self.members
                    .iter()
                    .filter(|m| m.id == *member || (*role == Role::Host && m.id == actor))
                    .map(|m| Change::MemberUpdated { member: m.clone() })
                    .collect()
            }
            Command::QueueMove { entry, to } => {
                let idx = self
                    .queue
                    .iter()
                    .position(|e| e.id == *entry)
                    .ok_or(SessionError::UnknownEntry(*entry))?;
                let item = self.queue.remove(idx);
                let to = (*to).min(self.queue.len());
                self.queue.insert(to, item);
                vec![self.queue_change()]
            }
        };
        self.version += 1;
        Ok(changes)
    }

    /// Records that a member's command `id` was applied (for replay de-duplication).
    pub fn record_command(&mut self, actor: &str, id: u64) {
        if let Some(m) = self.member_mut(actor) {
            m.last_command = m.last_command.max(id);
        }
    }

    /// A member's player stalled (`buffering = true`) or is ready again. A stall while playing
    /// holds the group (up to [`Session::wait_bound_ms`]); the last ready member releases it.
    pub fn report(
        &mut self,
        actor: &str,
        buffering: bool,
        rtt_ms: Option<f64>,
        now: f64,
    ) -> Result<Vec<Change>, SessionError> {
        let m = self.member_mut(actor).ok_or(SessionError::UnknownMember)?;
        let rtt = rtt_ms
            .filter(|r| r.is_finite() && *r >= 0.0)
            .map(|r| r.min(10_000.0));
        let changed = m.buffering != buffering || rtt.is_some_and(|r| (r - m.rtt_ms).abs() >= 1.0);
        if !changed {
            return Ok(Vec::new());
        }
        m.buffering = buffering;
        if let Some(r) = rtt {
            m.rtt_ms = r;
        }
        let member = m.clone();
        let mut changes = vec![Change::MemberUpdated {
            member: member.clone(),
        }];
        if buffering && member.online() {
            if let Some(wait) = &mut self.wait {
                if !wait.members.iter().any(|id| id == actor) {
                    wait.members.push(actor.to_owned());
                }
                let (playback, wait) = (self.playback, self.wait.clone());
                changes.push(Change::Playback {
                    playback,
                    wait,
                    cause: Cause::Waiting,
                });
            } else if self.playback.playing {
                let position = self.playback.position_at(now);
                self.wait = Some(Wait {
                    members: vec![actor.to_owned()],
                    deadline: now + self.wait_bound_ms,
                    reason: WaitReason::Buffering,
                    resume: true,
                });
                changes.extend(self.set_playback(
                    Playback {
                        playing: false,
                        position,
                        at: now,
                        rate: self.playback.rate,
                    },
                    Cause::Waiting,
                ));
            }
        } else {
            changes.extend(self.settle_wait(now));
        }
        self.version += 1;
        Ok(changes)
    }

    /// Releases the group when nobody it waits for is still buffering, or when the wait bound
    /// passed (then the stragglers catch up on their own). Call on a timer at the deadline.
    pub fn tick(&mut self, now: f64) -> Vec<Change> {
        let changes = self.settle_wait(now);
        if !changes.is_empty() {
            self.version += 1;
        }
        changes
    }

    fn settle_wait(&mut self, now: f64) -> Vec<Change> {
        let Some(wait) = self.wait.clone() else {
            return Vec::new();
        };
        let still: Vec<MemberId> = wait
            .members
            .iter()
            .filter(|id| self.member(id).is_some_and(|m| m.online() && m.buffering))
            .cloned()
            .collect();
        let timed_out = now >= wait.deadline;
        if !still.is_empty() && !timed_out {
            if still.len() != wait.members.len() {
                self.wait = Some(Wait {
                    members: still,
                    ..wait
                });
                return vec![Change::Playback {
                    playback: self.playback,
                    wait: self.wait.clone(),
                    cause: Cause::Waiting,
                }];
            }
            return Vec::new();
        }
        self.wait = None;
        let cause = if still.is_empty() {
            Cause::Resumed
        } else {
            // They stay marked buffering, but no longer hold the group until they recover.
            Cause::CarriedOn { without: still }
        };
        let at = now + self.lead_ms();
        let playback = Playback {
            playing: wait.resume,
            position: self.playback.position,
            at,
            rate: self.playback.rate,
        };
        self.set_playback(playback, cause)
    }

    fn set_playback(&mut self, playback: Playback, cause: Cause) -> Vec<Change> {
        self.playback = playback;
        vec![Change::Playback {
            playback,
            wait: self.wait.clone(),
            cause,
        }]
    }

    fn current_index(&self) -> Option<usize> {
        let id = self.current?;
        self.queue.iter().position(|e| e.id == id)
    }

    fn queue_change(&self) -> Change {
        Change::Queue {
            queue: self.queue.clone(),
            current: self.current,
        }
    }

    /// Switches to `entry` from 0:00. Everyone must load the new item first, so the group waits
    /// for all online members (they report ready) and then starts together.
    fn start_entry(&mut self, entry: Option<u64>, now: f64) -> Vec<Change> {
        self.current = entry;
        if let Some(e) = self.current_entry() {
            self.title = e.title.clone();
        }
        for m in &mut self.members {
            if m.online() {
                m.buffering = true;
            }
        }
        let waiting: Vec<MemberId> = self
            .members
            .iter()
            .filter(|m| m.online())
            .map(|m| m.id.clone())
            .collect();
        let resume = self.playback.playing || self.wait.as_ref().is_some_and(|w| w.resume);
        self.wait = (entry.is_some() && !waiting.is_empty()).then_some(Wait {
            members: waiting,
            deadline: now + self.wait_bound_ms,
            reason: WaitReason::Loading,
            resume,
        });
        let mut changes = vec![self.queue_change()];
        changes.extend(self.set_playback(Playback::paused(0.0, now), Cause::Item { entry }));
        changes
    }

    /// Applies a broadcast change to a mirrored copy (what clients do with events).
    pub fn apply_change(&mut self, change: &Change) {
        match change {
            Change::Playback { playback, wait, .. } => {
                self.playback = *playback;
                self.wait = wait.clone();
            }
            Change::MemberJoined { member } | Change::MemberUpdated { member } => {
                match self.member_mut(&member.id) {
                    Some(m) => *m = member.clone(),
                    None => self.members.push(member.clone()),
                }
            }
            Change::HostChanged { host } => self.make_host(host),
            Change::HostElsewhere { elsewhere } => self.host_elsewhere = *elsewhere,
            Change::Control { control } => self.control = *control,
            Change::Queue { queue, current } => {
                self.queue = queue.clone();
                self.current = *current;
                if let Some(e) = self.current_entry() {
                    self.title = e.title.clone();
                }
            }
        }
    }

    /// `host` becomes the host; the previous host becomes a viewer (co-hosts stay co-hosts).
    fn make_host(&mut self, host: &str) {
        for m in &mut self.members {
            if m.id == host {
                m.role = Role::Host;
            } else if m.role == Role::Host {
                m.role = Role::Viewer;
            }
        }
    }

    /// Marks every member offline: after a single-process restart no connection survives.
    pub fn reset_presence(&mut self) {
        for m in &mut self.members {
            m.connections = 0;
            m.buffering = false;
        }
        self.wait = None;
        if self.playback.playing {
            // Nobody was watching while the server was down; hold where it stopped.
            self.playback = Playback::paused(self.playback.position, self.playback.at);
        }
    }
}

/// What a viewer follows: the line in force now and, if a command was scheduled for a later
/// instant, the one that replaces it then.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    pub active: Playback,
    pub pending: Option<Playback>,
}

impl Timeline {
    /// Starts from a snapshot's playback.
    pub fn new(playback: Playback) -> Self {
        Self {
            active: playback,
            pending: None,
        }
    }

    /// A newer line arrived; it takes over at its `at`.
    pub fn push(&mut self, playback: Playback, now: f64) {
        self.promote(now);
        if playback.at > now {
            if let Some(p) = self.pending.take() {
                self.active = p;
            }
            self.pending = Some(playback);
        } else {
            self.active = playback;
            self.pending = None;
        }
    }

    /// The line in force at `now` (promoting a due pending one).
    pub fn at(&mut self, now: f64) -> Playback {
        self.promote(now);
        self.active
    }

    fn promote(&mut self, now: f64) {
        if let Some(p) = self.pending
            && p.at <= now
        {
            self.active = p;
            self.pending = None;
        }
    }
}

/// A human sentence for a broadcast ("Ana paused"), so every viewer sees who did what.
pub fn describe(by: Option<&Actor>, change: &Change, session: &Session) -> Option<String> {
    let who = by.map(|a| a.name.as_str()).unwrap_or("Marquee");
    let name_of = |id: &str| {
        session
            .member(id)
            .map(|m| m.name.clone())
            .unwrap_or_else(|| "someone".into())
    };
    match change {
        Change::Playback { cause, wait, .. } => Some(match cause {
            Cause::Play => format!("{who} pressed play"),
            Cause::Pause => format!("{who} paused"),
            Cause::Seek { to, .. } => format!("{who} jumped to {}", clock_time(*to)),
            Cause::Rate { rate } => format!("{who} set the speed to {rate}×"),
            Cause::Item { .. } => format!(
                "{who} started {}",
                session
                    .current_entry()
                    .map(|e| e.title.as_str())
                    .unwrap_or("the queue's end")
            ),
            Cause::Waiting => {
                let names: Vec<String> = wait
                    .iter()
                    .flat_map(|w| w.members.iter())
                    .map(|id| name_of(id))
                    .collect();
                format!("Waiting for {}…", names.join(", "))
            }
            Cause::Resumed => "Everyone is ready".to_owned(),
            Cause::CarriedOn { without } => {
                let names: Vec<String> = without.iter().map(|id| name_of(id)).collect();
                format!("Carrying on without {}", names.join(", "))
            }
        }),
        // A member enrolled from elsewhere (a Discord command) is not watching: no "joined".
        Change::MemberJoined { member } if !member.online() => None,
        Change::MemberJoined { member } => Some(format!("{} joined", member.name)),
        Change::HostChanged { host } => Some(format!("{} is now the host", name_of(host))),
        Change::Control { control } => Some(match control {
            Control::Everyone => format!("{who} let everyone drive"),
            Control::HostAndCoHosts => format!("{who} let only the host and co-hosts drive"),
            Control::HostOnly => format!("{who} let only the host drive"),
        }),
        Change::Queue { .. } => by.map(|a| format!("{} changed the queue", a.name)),
        Change::MemberUpdated { .. } | Change::HostElsewhere { .. } => None,
    }
}

/// `m:ss` or `h:mm:ss`.
pub fn clock_time(seconds: f64) -> String {
    let s = seconds.max(0.0).floor() as u64;
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, name: &str) -> Member {
        Member {
            id: id.into(),
            name: name.into(),
            role: Role::Viewer,
            connections: 1,
            buffering: false,
            joined_at: 0.0,
            last_command: 0,
            rtt_ms: 0.0,
        }
    }

    fn session() -> Session {
        let mut s = Session::new(
            "s1",
            member("ana", "Ana"),
            ("101".into(), "Harbor Lights".into()),
            1_000.0,
        )
        .expect("valid");
        s.join(None, "ben", "Ben", 2_000.0).expect("join");
        s
    }

    /// A session `/play` started: Ana is host, driving from Discord, not on the page.
    fn hosted_from_discord() -> Session {
        let mut s = Session::new(
            "s2",
            Member {
                connections: 0,
                ..member("discord-1", "Ana")
            },
            ("101".into(), "Harbor Lights".into()),
            1_000.0,
        )
        .expect("valid");
        s.host_elsewhere = true;
        s
    }

    #[test]
    fn a_host_who_drives_from_discord_keeps_the_role_while_away_from_the_page() {
        let mut s = hosted_from_discord();
        s.control = Control::HostOnly;
        s.join(None, "ben", "Ben", 2_000.0).expect("join");
        assert_eq!(s.host().map(|h| h.id.as_str()), Some("discord-1"));
        assert!(s.apply("ben", &Command::Pause, 2_100.0).is_err());
        // Ana opens the page and leaves again: still the host, Ben still a viewer.
        s.join(Some("discord-1"), "discord-1", "Ana", 3_000.0)
            .expect("join");
        s.disconnect("discord-1", 4_000.0).expect("leave");
        assert_eq!(s.host().map(|h| h.id.as_str()), Some("discord-1"));
        // A web session's vacant host role still goes to whoever comes.
        s.host_elsewhere = false;
        s.join(None, "cy", "Cy", 5_000.0).expect("join");
        assert_ne!(s.host().map(|h| h.id.as_str()), Some("discord-1"));
    }

    #[test]
    fn a_discord_host_who_leaves_the_voice_channel_hands_the_role_on() {
        let mut s = hosted_from_discord();
        s.join(None, "ben", "Ben", 2_000.0).expect("join");
        s.join(None, "cy", "Cy", 3_000.0).expect("join");
        let v = s.version;
        let changes = s.host_left_elsewhere();
        assert_eq!(
            changes,
            vec![
                Change::HostElsewhere { elsewhere: false },
                Change::HostChanged { host: "ben".into() }
            ],
            "the longest-present online member"
        );
        assert_eq!(s.host().map(|h| h.id.as_str()), Some("ben"));
        assert!(!s.host_elsewhere && s.version > v);
        // Only once: a second departure changes nothing.
        let v = s.version;
        assert!(s.host_left_elsewhere().is_empty());
        assert_eq!(s.version, v);

        // A host who is on the page keeps the role; it then follows the page's rules.
        let mut s = session();
        s.host_elsewhere = true;
        let changes = s.host_left_elsewhere();
        assert_eq!(changes, vec![Change::HostElsewhere { elsewhere: false }]);
        assert_eq!(s.host().map(|h| h.id.as_str()), Some("ana"));
        assert!(!s.host_elsewhere);
    }

    #[test]
    fn an_outside_grant_makes_a_viewer_co_host_and_leaves_the_host_alone() {
        let mut s = session();
        s.control = Control::HostAndCoHosts;
        assert!(s.apply("ben", &Command::Pause, 3_000.0).is_err());
        let v = s.version;
        let changes = s.grant_co_host("ben").expect("grant");
        assert_eq!(changes.len(), 1);
        assert_eq!(s.version, v + 1);
        assert_eq!(s.member("ben").map(|m| m.role), Some(Role::CoHost));
        assert!(s.apply("ben", &Command::Pause, 3_100.0).is_ok());
        assert!(s.grant_co_host("ana").expect("no-op").is_empty());
        assert_eq!(s.member("ana").map(|m| m.role), Some(Role::Host));
        assert!(matches!(
            s.grant_co_host("nobody"),
            Err(SessionError::UnknownMember)
        ));
    }

    #[test]
    fn the_host_decides_who_may_drive() {
        let mut s = session();
        s.join(None, "cy", "Cy", 3_000.0).expect("join");
        // Only the host may set the policy or roles.
        assert!(matches!(
            s.apply(
                "ben",
                &Command::SetControl {
                    control: Control::HostOnly
                },
                4_000.0
            ),
            Err(SessionError::NotAllowed(_))
        ));
        s.apply(
            "ana",
            &Command::SetControl {
                control: Control::HostAndCoHosts,
            },
            4_000.0,
        )
        .expect("host sets the policy");
        let refused = s
            .apply("ben", &Command::Play, 5_000.0)
            .expect_err("viewer refused");
        assert!(refused.to_string().contains("co-host"), "{refused}");
        s.apply(
            "ana",
            &Command::SetRole {
                member: "ben".into(),
                role: Role::CoHost,
            },
            5_000.0,
        )
        .expect("promote");
        s.apply("ben", &Command::Play, 6_000.0)
            .expect("a co-host drives");
        assert!(s.apply("cy", &Command::Pause, 6_000.0).is_err());
        // Host only: the co-host is refused until the host hands the role over.
        s.apply(
            "ana",
            &Command::SetControl {
                control: Control::HostOnly,
            },
            7_000.0,
        )
        .expect("stricter");
        assert!(s.apply("ben", &Command::Pause, 7_000.0).is_err());
        let changes = s
            .apply(
                "ana",
                &Command::SetRole {
                    member: "ben".into(),
                    role: Role::Host,
                },
                8_000.0,
            )
            .expect("hand over");
        assert_eq!(changes.len(), 2);
        assert_eq!(s.host().map(|m| m.id.as_str()), Some("ben"));
        assert_eq!(s.member("ana").map(|m| m.role), Some(Role::CoHost));
        s.apply("ben", &Command::Pause, 9_000.0)
            .expect("the new host drives");
        // Mirrors applying the changes agree with the server's copy.
        let mut mirror = session();
        mirror.join(None, "cy", "Cy", 3_000.0).expect("join");
        for c in &changes {
            mirror.apply_change(c);
        }
        assert_eq!(mirror.host().map(|m| m.id.as_str()), Some("ben"));
        // Sessions stored before roles existed read as "everyone drives".
        let mut old = serde_json::to_value(session()).expect("json");
        old.as_object_mut().expect("object").remove("control");
        let old: Session = serde_json::from_value(old).expect("old sessions load");
        assert_eq!(old.control, Control::Everyone);
    }

    #[test]
    fn enrolling_names_a_remote_driver_without_bringing_them_online() {
        let mut s = session();
        let v = s.version;
        let changes = s.enrol("discord-7", "Cleo", 3_000.0).expect("enrol");
        assert!(matches!(&changes[..], [Change::MemberJoined { member }] if !member.online()));
        assert_eq!(s.version, v + 1);
        assert_eq!(s.member("discord-7").map(|m| m.role), Some(Role::Viewer));
        // Again under the same name: nothing changes; a new name is an update.
        assert!(
            s.enrol("discord-7", "Cleo", 4_000.0)
                .expect("again")
                .is_empty()
        );
        assert_eq!(s.version, v + 1);
        assert_eq!(
            s.enrol("discord-7", "Cleo B", 5_000.0)
                .expect("rename")
                .len(),
            1
        );
        // The remote driver can now command, and is named as the actor.
        s.apply("discord-7", &Command::Play, 6_000.0).expect("play");
        assert_eq!(s.actor("discord-7").map(|a| a.name), Some("Cleo B".into()));
        assert!(s.enrol("x", "   ", 0.0).is_err());
    }

    #[test]
    fn playback_line_advances_only_while_playing() {
        let p = Playback {
            playing: true,
            position: 10.0,
            at: 1_000.0,
            rate: 1.0,
        };
        assert!((p.position_at(3_500.0) - 12.5).abs() < 1e-9);
        let paused = Playback::paused(10.0, 1_000.0);
        assert_eq!(paused.position_at(9_999.0), 10.0);
    }

    #[test]
    fn commands_take_effect_at_a_scheduled_instant() {
        let mut s = session();
        let v = s.version;
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        assert!(s.playback.playing);
        assert!(s.playback.at >= 10_000.0 + MIN_LEAD_MS);
        assert_eq!(s.version, v + 1);
        s.apply("ben", &Command::Pause, 20_000.0).expect("pause");
        let expected = (20_000.0 + MIN_LEAD_MS - (10_000.0 + MIN_LEAD_MS)) / 1000.0;
        assert!((s.playback.position - expected).abs() < 1e-9);
    }

    #[test]
    fn lead_grows_with_the_slowest_member() {
        let mut s = session();
        s.report("ben", false, Some(400.0), 0.0).expect("report");
        assert!((s.lead_ms() - 650.0).abs() < 1e-9);
        s.report("ben", false, Some(5_000.0), 0.0).expect("report");
        assert_eq!(s.lead_ms(), MAX_LEAD_MS);
    }

    #[test]
    fn late_join_does_not_touch_playback() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        let before = s.playback;
        let (id, changes) = s.join(None, "cy", "Cy", 60_000.0).expect("join");
        assert_eq!(id, "cy");
        assert_eq!(s.playback, before);
        assert!(matches!(changes.as_slice(), [Change::MemberJoined { .. }]));
        assert_eq!(s.member("cy").map(|m| m.role), Some(Role::Viewer));
    }

    #[test]
    fn rejoin_reuses_the_member() {
        let mut s = session();
        s.disconnect("ben", 3_000.0).expect("leave");
        assert!(!s.member("ben").expect("ben").online());
        let (id, _) = s
            .join(Some("ben"), "other", "Ben", 4_000.0)
            .expect("rejoin");
        assert_eq!(id, "ben");
        assert_eq!(s.members.len(), 2);
        assert!(s.member("ben").expect("ben").online());
    }

    #[test]
    fn host_role_passes_to_the_longest_present_member() {
        let mut s = session();
        s.join(None, "cy", "Cy", 5_000.0).expect("join");
        let changes = s.disconnect("ana", 6_000.0).expect("leave");
        assert!(changes.contains(&Change::HostChanged { host: "ben".into() }));
        assert_eq!(s.host().map(|m| m.id.as_str()), Some("ben"));
        assert_eq!(s.member("ana").map(|m| m.role), Some(Role::Viewer));
    }

    #[test]
    fn an_absent_host_hands_over_to_whoever_arrives() {
        let mut s = session();
        s.disconnect("ana", 3_000.0).expect("ana leaves");
        s.disconnect("ben", 3_100.0).expect("ben leaves");
        // Ana left last-but-one, so Ben inherited; now Ben is gone too and Cy arrives.
        let (_, changes) = s.join(None, "cy", "Cy", 4_000.0).expect("join");
        assert!(changes.contains(&Change::HostChanged { host: "cy".into() }));
        // Ana coming back while Cy is here stays a viewer.
        let (_, changes) = s.join(Some("ana"), "x", "Ana", 5_000.0).expect("rejoin");
        assert!(
            !changes
                .iter()
                .any(|c| matches!(c, Change::HostChanged { .. }))
        );
        assert_eq!(s.host().map(|m| m.id.as_str()), Some("cy"));
    }

    #[test]
    fn a_host_with_two_tabs_keeps_the_role_until_the_last_closes() {
        let mut s = session();
        s.join(Some("ana"), "x", "Ana", 3_000.0)
            .expect("second tab");
        s.disconnect("ana", 4_000.0).expect("close one");
        assert_eq!(s.host().map(|m| m.id.as_str()), Some("ana"));
    }

    #[test]
    fn buffering_member_holds_the_group_until_ready() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        let changes = s.report("ben", true, None, 12_000.0).expect("stall");
        assert!(!s.playback.playing);
        let wait = s.wait.clone().expect("waiting");
        assert_eq!(wait.members, vec!["ben".to_string()]);
        assert!(changes.iter().any(|c| matches!(
            c,
            Change::Playback {
                cause: Cause::Waiting,
                ..
            }
        )));
        let text = describe(None, changes.last().expect("change"), &s).expect("text");
        assert_eq!(text, "Waiting for Ben…");
        let held_at = s.playback.position;
        s.report("ben", false, None, 13_000.0).expect("ready");
        assert!(s.wait.is_none());
        assert!(s.playback.playing);
        assert_eq!(s.playback.position, held_at);
        assert!(s.playback.at > 13_000.0);
    }

    #[test]
    fn the_group_carries_on_after_the_wait_bound() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        s.report("ben", true, None, 12_000.0).expect("stall");
        assert!(s.tick(12_000.0 + DEFAULT_WAIT_BOUND_MS - 1.0).is_empty());
        let changes = s.tick(12_000.0 + DEFAULT_WAIT_BOUND_MS);
        assert!(s.playback.playing);
        assert!(matches!(
            changes.as_slice(),
            [Change::Playback { cause: Cause::CarriedOn { without }, .. }] if without == &vec!["ben".to_string()]
        ));
    }

    #[test]
    fn a_member_leaving_releases_the_wait() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        s.report("ben", true, None, 12_000.0).expect("stall");
        s.disconnect("ben", 12_500.0).expect("leave");
        assert!(s.wait.is_none());
        assert!(s.playback.playing);
    }

    #[test]
    fn pause_during_a_wait_cancels_the_resume() {
        let mut s = session();
        s.apply("ana", &Command::Play, 10_000.0).expect("play");
        s.report("ben", true, None, 12_000.0).expect("stall");
        s.apply("ana", &Command::Pause, 12_100.0).expect("pause");
        s.report("ben", false, None, 13_000.0).expect("ready");
        assert!(!s.playback.playing);
    }

    #[test]
    fn next_waits_for_everyone_to_load() {
        let mut s = session();
        s.apply(
            "ana",
            &Command::QueueAdd {
                rating_key: "102".into(),
                title: "Copper Sky".into(),
            },
            5_000.0,
        )
        .expect("add");
        s.apply("ana", &Command::Play, 6_000.0).expect("play");
        s.apply("ben", &Command::Next, 7_000.0).expect("next");
        assert_eq!(
            s.current_entry().map(|e| e.rating_key.as_str()),
            Some("102")
        );
        assert_eq!(s.title, "Copper Sky");
        assert_eq!(s.playback.position, 0.0);
        assert!(!s.playback.playing);
        s.report("ana", false, None, 7_500.0).expect("ana ready");
        assert!(!s.playback.playing, "still waiting for Ben");
        s.report("ben", false, None, 7_600.0).expect("ben ready");
        assert!(s.playback.playing);
        assert_eq!(
            s.apply("ben", &Command::Next, 8_000.0),
            Err(SessionError::NoNext)
        );
        s.apply("ben", &Command::Previous, 8_000.0)
            .expect("previous");
        assert_eq!(
            s.current_entry().map(|e| e.rating_key.as_str()),
            Some("101")
        );
    }

    #[test]
    fn queue_edits() {
        let mut s = session();
        for (k, t) in [("102", "B"), ("103", "C")] {
            s.apply(
                "ana",
                &Command::QueueAdd {
                    rating_key: k.into(),
                    title: t.into(),
                },
                1.0,
            )
            .expect("add");
        }
        s.apply("ana", &Command::QueueMove { entry: 3, to: 0 }, 2.0)
            .expect("move");
        let order: Vec<u64> = s.queue.iter().map(|e| e.id).collect();
        assert_eq!(order, vec![3, 1, 2]);
        s.apply("ana", &Command::QueueRemove { entry: 2 }, 3.0)
            .expect("remove");
        assert_eq!(s.queue.len(), 2);
        assert_eq!(
            s.apply("ana", &Command::QueueRemove { entry: 99 }, 4.0),
            Err(SessionError::UnknownEntry(99))
        );
        let bad = Command::QueueAdd {
            rating_key: "../x".into(),
            title: "x".into(),
        };
        assert!(matches!(
            s.apply("ana", &bad, 5.0),
            Err(SessionError::InvalidInput(_))
        ));
    }

    #[test]
    fn invalid_commands_change_nothing() {
        let mut s = session();
        let before = s.clone();
        for cmd in [
            Command::Seek { position: -1.0 },
            Command::Seek { position: f64::NAN },
            Command::SetRate { rate: 9.0 },
            Command::Previous,
        ] {
            assert!(s.apply("ana", &cmd, 5.0).is_err(), "{cmd:?}");
        }
        assert!(s.apply("nobody", &Command::Play, 5.0).is_err());
        assert_eq!(s, before);
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(clean_name("  Ana \n"), Ok("Ana".into()));
        assert_eq!(clean_name("   "), Err(SessionError::InvalidName));
        assert_eq!(clean_name(&"x".repeat(40)), Err(SessionError::InvalidName));
    }

    #[test]
    fn mirrors_follow_broadcast_changes() {
        let mut server = session();
        let mut mirror = server.clone();
        let mut all = Vec::new();
        all.extend(server.apply("ana", &Command::Play, 10.0).expect("play"));
        all.extend(server.join(None, "cy", "Cy", 20.0).expect("join").1);
        all.extend(server.disconnect("ana", 30.0).expect("leave"));
        all.extend(
            server
                .apply(
                    "ben",
                    &Command::QueueAdd {
                        rating_key: "102".into(),
                        title: "B".into(),
                    },
                    40.0,
                )
                .expect("add"),
        );
        for c in &all {
            mirror.apply_change(c);
        }
        mirror.version = server.version;
        mirror.next_entry = server.next_entry;
        assert_eq!(mirror, server);
    }

    #[test]
    fn timeline_switches_at_the_scheduled_instant() {
        let old = Playback {
            playing: true,
            position: 0.0,
            at: 0.0,
            rate: 1.0,
        };
        let mut tl = Timeline::new(old);
        let paused = Playback::paused(10.15, 10_150.0);
        tl.push(paused, 10_000.0);
        assert_eq!(tl.at(10_100.0), old);
        assert_eq!(tl.at(10_150.0), paused);
    }

    #[test]
    fn sessions_round_trip_through_json() {
        let s = session();
        let json = serde_json::to_string(&s).expect("json");
        let back: Session = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, s);
    }
}
