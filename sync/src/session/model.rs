//! The session's data: who is in it, what is queued, where playback is, and how a mirrored copy
//! applies a broadcast [`Change`].

use serde::{Deserialize, Serialize};

use super::command::{Cause, Change, SessionError};
use super::ending::{Ending, EntryInfo, Options};
use super::{DEFAULT_WAIT_BOUND_MS, MAX_LEAD_MS, MIN_LEAD_MS};
use crate::ids::DisplayName;
use crate::member::MemberId;

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
    /// Server time the member's last connection closed (0 while never); anonymous members
    /// offline for [`super::OFFLINE_KEEP_MS`] are dropped when someone new joins.
    #[serde(default)]
    pub left_at: f64,
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
    /// What Plex says of the item (length, markers, next episode), once the server asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<EntryInfo>,
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

    /// The server time at which a playing line reaches `position`, seen at `now`: a line
    /// scheduled for later starts at its `at`; a position already passed is reached now. `None`
    /// while paused.
    pub fn reaches(&self, position: f64, now: f64) -> Option<f64> {
        if !self.playing || self.rate <= 0.0 {
            return None;
        }
        let base = now.max(self.at);
        Some(base + ((position - self.position_at(base)) / self.rate * 1000.0).max(0.0))
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
    /// Autoplay of what comes next, and skipping intros.
    #[serde(default)]
    pub options: Options,
    /// Whether the current item finished, or its "Up next" was cancelled.
    #[serde(default)]
    pub ending: Ending,
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
        host.name = DisplayName::parse(&host.name)?.into();
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
                info: None,
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
            options: Options::default(),
            ending: Ending::default(),
        })
    }

    /// A member by id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    pub(super) fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
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

    pub(super) fn current_index(&self) -> Option<usize> {
        let id = self.current?;
        self.queue.iter().position(|e| e.id == id)
    }

    pub(super) fn queue_change(&self) -> Change {
        Change::Queue {
            queue: self.queue.clone(),
            current: self.current,
        }
    }

    /// Moves playback to a new line; the change says why.
    pub(super) fn set_playback(&mut self, playback: Playback, cause: Cause) -> Vec<Change> {
        self.playback = playback;
        vec![Change::Playback {
            playback,
            wait: self.wait.clone(),
            cause,
        }]
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
            Change::MembersLeft { members } => {
                self.members.retain(|m| !members.contains(&m.id));
            }
            Change::HostChanged { host } => self.make_host(host),
            Change::HostElsewhere { elsewhere } => self.host_elsewhere = *elsewhere,
            Change::Control { control } => self.control = *control,
            Change::Options { options } => self.options = *options,
            Change::Ending { ending } => self.ending = *ending,
            Change::UpNextCancelled => self.ending.cancelled = true,
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
    pub(super) fn make_host(&mut self, host: &str) {
        for m in &mut self.members {
            if m.id == host {
                m.role = Role::Host;
            } else if m.role == Role::Host {
                m.role = Role::Viewer;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Command;
    use crate::session::fixtures::session;

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
    fn lead_grows_with_the_slowest_member() {
        let mut s = session();
        s.report("ben", false, Some(400.0), 0.0).expect("report");
        assert!((s.lead_ms() - 650.0).abs() < 1e-9);
        s.report("ben", false, Some(5_000.0), 0.0).expect("report");
        assert_eq!(s.lead_ms(), MAX_LEAD_MS);
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
    fn sessions_round_trip_through_json() {
        let s = session();
        let json = serde_json::to_string(&s).expect("json");
        let back: Session = serde_json::from_str(&json).expect("parse");
        assert_eq!(back, s);
    }
}
