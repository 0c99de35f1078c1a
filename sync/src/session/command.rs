//! What members ask for ([`Command`]), what an accepted request changed ([`Change`], with its
//! [`Cause`]), and why a request was refused ([`SessionError`]).

use serde::{Deserialize, Serialize};

use super::MAX_QUEUE;
use super::ending::{Ending, MarkerKind, Options};
use super::model::{Control, Member, Playback, QueueEntry, Role, Wait};
use crate::ids::MAX_NAME_CHARS;
use crate::member::MemberId;

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
    /// Skip the intro or credits marker the group is in.
    Skip,
    /// Start the current item from Plex's resume point (`resume`) or from the beginning.
    Start {
        resume: bool,
    },
    /// Do not start the next item after this one's "Up next" countdown.
    CancelUpNext,
    /// Autoplay of what comes next, and skipping intros.
    SetOptions {
        options: Options,
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
    /// Members offline for long were dropped from the list (see [`Session::join`]).
    MembersLeft {
        members: Vec<MemberId>,
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
    /// The group's options changed.
    Options {
        options: Options,
    },
    /// The current item finished or was watched (or a new item reset both).
    Ending {
        ending: Ending,
    },
    /// A driver cancelled the current item's "Up next".
    UpNextCancelled,
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
    /// The item played to its end with nothing after it.
    Ended,
    /// Someone (or the "skip intros" option) skipped a marker.
    Skipped {
        marker: MarkerKind,
        from: f64,
        to: f64,
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
    #[error("there is no intro or credits to skip here")]
    NothingToSkip,
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
    #[error("that is not a watch session id")]
    InvalidSessionId,
    #[error("that is not a Plex rating key")]
    InvalidRatingKey,
    #[error("this session is full ({0} people are in it)")]
    SessionFull(usize),
}
