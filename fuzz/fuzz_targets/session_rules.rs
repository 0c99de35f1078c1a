//! Sequences of what happens to a watch session (joins, leaves, commands from several members,
//! buffering reports, timer ticks, the bot's calls), applied through the session's public API.
//!
//! After every step the target checks what the domain documents:
//! - a refused step changes nothing ("On error nothing changed");
//! - every accepted change bumps the version by exactly one, and a step with no changes does not
//!   bump it (a duplicate command included);
//! - there is always exactly one host, and it is a member (the role moves, it is never lost);
//! - member ids are unique and names are display names as `DisplayName::parse` leaves them;
//! - playback is a valid line: finite, non-negative position, finite instant, rate in
//!   `RATE_RANGE`; while the group waits it is paused, and it waits only for members;
//! - the queue holds at most `MAX_QUEUE` entries with unique ids below `next_entry` and valid
//!   Plex keys; `current` is one of them (or none) and the title follows it;
//! - a mirror that applies the broadcast changes, after a trip through the JSON wire format,
//!   ends up equal to the server's copy (except what is not broadcast: the version counter, the
//!   next entry id and the replay counters), as `Session::apply_change` promises;
//! - the session round-trips through JSON, as stored sessions do.
//!
//! There is no media duration in the session model, so positions are checked against zero
//! only. Time moves forward from a realistic epoch in steps of at most a minute, as the server
//! clock does; member ids are generated the way the server does (fresh ids for new anonymous
//! members, `discord-…` for signed-in ones).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use marquee_sync::ids::{DisplayName, is_plex_key};
use marquee_sync::session::{
    Admitted, Cause, Change, Command, Control, MAX_QUEUE, Member, RATE_RANGE, Role, Session,
};

/// A float from the fuzzer: anything (NaN, infinities, huge), or a small realistic value.
#[derive(Debug, Arbitrary)]
enum Num {
    Raw(f64),
    Tenths(u16),
}

impl Num {
    fn get(&self) -> f64 {
        match self {
            Num::Raw(f) => *f,
            Num::Tenths(n) => f64::from(*n) / 10.0,
        }
    }
}

/// A string from the fuzzer, or one of a few that pass validation.
#[derive(Debug, Arbitrary)]
enum Text {
    Raw(String),
    Valid(u8),
}

impl Text {
    fn name(&self) -> String {
        match self {
            Text::Raw(s) => s.clone(),
            Text::Valid(i) => ["Ana", "Ben", "Cy", " Dee ", "Éloïse"][usize::from(*i) % 5].into(),
        }
    }

    fn key(&self) -> String {
        match self {
            Text::Raw(s) => s.clone(),
            Text::Valid(i) => format!("{}", 100 + u32::from(*i)),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Cmd {
    Play,
    Pause,
    Seek(Num),
    SetRate(Num),
    Next,
    Previous,
    PlayEntry(u8),
    QueueAdd(Text, String),
    QueueRemove(u8),
    QueueMove(u8, u16),
    SetRole(u8, u8),
    SetControl(u8),
}

/// Which version a command says it was based on.
#[derive(Debug, Arbitrary)]
enum Base {
    Current,
    Behind(u8),
    Ahead(u8),
}

#[derive(Debug, Arbitrary)]
enum Step {
    /// A WebSocket command (`admit_command`, as the server calls it).
    Admit {
        who: u8,
        id: u8,
        base: Base,
        cmd: Cmd,
    },
    /// `apply` without the replay checks.
    Apply {
        who: u8,
        cmd: Cmd,
    },
    /// The Discord bot's path: enrol, then `apply_authorized`.
    Bot {
        who: u8,
        name: Text,
        cmd: Cmd,
    },
    /// A signed-in Discord user opens the page.
    JoinDiscord {
        user: u8,
        name: Text,
    },
    /// An anonymous viewer arrives (fresh id) or proves an earlier member id.
    JoinAnonymous {
        rejoin: Option<u8>,
        name: Text,
    },
    Disconnect {
        who: u8,
    },
    Report {
        who: u8,
        buffering: bool,
        rtt: Option<Num>,
    },
    Tick,
    GrantCoHost {
        who: u8,
    },
    HostLeftElsewhere,
    /// A single-process restart: every member offline, mirrors resync from a snapshot.
    ResetPresence,
}

#[derive(Debug, Arbitrary)]
struct Input {
    host_elsewhere: bool,
    host_connections: u8,
    steps: Vec<(u16, Step)>,
}

/// An id of a member of `s` (or, past the end, of nobody).
fn pick(s: &Session, i: u8) -> String {
    s.members
        .get(usize::from(i) % (s.members.len() + 1))
        .map_or_else(|| "nobody".to_string(), |m| m.id.clone())
}

/// An entry id: mostly ones in the queue, sometimes not.
fn entry(s: &Session, i: u8) -> u64 {
    s.queue
        .get(usize::from(i) % (s.queue.len() + 1))
        .map_or(u64::from(i), |e| e.id)
}

fn command(s: &Session, cmd: &Cmd) -> Command {
    match cmd {
        Cmd::Play => Command::Play,
        Cmd::Pause => Command::Pause,
        Cmd::Seek(n) => Command::Seek { position: n.get() },
        Cmd::SetRate(n) => Command::SetRate { rate: n.get() },
        Cmd::Next => Command::Next,
        Cmd::Previous => Command::Previous,
        Cmd::PlayEntry(i) => Command::PlayEntry {
            entry: entry(s, *i),
        },
        Cmd::QueueAdd(key, title) => Command::QueueAdd {
            rating_key: key.key(),
            title: title.clone(),
        },
        Cmd::QueueRemove(i) => Command::QueueRemove {
            entry: entry(s, *i),
        },
        Cmd::QueueMove(i, to) => Command::QueueMove {
            entry: entry(s, *i),
            to: usize::from(*to),
        },
        Cmd::SetRole(who, role) => Command::SetRole {
            member: pick(s, *who),
            role: [Role::Host, Role::CoHost, Role::Viewer][usize::from(*role) % 3],
        },
        Cmd::SetControl(c) => Command::SetControl {
            control: [
                Control::Everyone,
                Control::HostAndCoHosts,
                Control::HostOnly,
            ][usize::from(*c) % 3],
        },
    }
}

/// What a step did: the broadcast changes, or a refusal (`None`).
type Outcome = Option<Vec<Change>>;

fn ok<T>(r: Result<T, marquee_sync::SessionError>, f: impl FnOnce(T) -> Vec<Change>) -> Outcome {
    r.ok().map(f)
}

fn check_invariants(s: &Session) {
    let hosts: Vec<&Member> = s.members.iter().filter(|m| m.role == Role::Host).collect();
    assert_eq!(hosts.len(), 1, "exactly one host: {:?}", s.members);
    for (i, m) in s.members.iter().enumerate() {
        assert!(
            s.members[..i].iter().all(|o| o.id != m.id),
            "duplicate member {}",
            m.id
        );
        let clean = DisplayName::parse(&m.name).map(String::from);
        assert_eq!(
            clean.as_deref(),
            Ok(m.name.as_str()),
            "member name {:?}",
            m.name
        );
        assert!(
            m.rtt_ms.is_finite() && (0.0..=10_000.0).contains(&m.rtt_ms),
            "rtt {}",
            m.rtt_ms
        );
    }

    let p = s.playback;
    assert!(
        p.position.is_finite() && p.position >= 0.0,
        "position {}",
        p.position
    );
    assert!(p.at.is_finite(), "at {}", p.at);
    assert!(
        (RATE_RANGE.0..=RATE_RANGE.1).contains(&p.rate),
        "rate {}",
        p.rate
    );
    if let Some(w) = &s.wait {
        assert!(!p.playing, "the group plays while it waits: {s:?}");
        assert!(w.deadline.is_finite());
        for id in &w.members {
            assert!(s.member(id).is_some(), "waits for non-member {id}");
        }
    }

    assert!(s.queue.len() <= MAX_QUEUE);
    for (i, e) in s.queue.iter().enumerate() {
        assert!(
            e.id < s.next_entry,
            "entry {} ≥ next {}",
            e.id,
            s.next_entry
        );
        assert!(s.queue[..i].iter().all(|o| o.id != e.id), "duplicate entry");
        assert!(is_plex_key(&e.rating_key), "rating key {:?}", e.rating_key);
        assert!(e.title.chars().count() <= 200);
    }
    if let Some(current) = s.current {
        let e = s.current_entry();
        assert!(e.is_some(), "current {current} is not queued");
        assert_eq!(e.map(|e| &e.title), Some(&s.title));
    }
}

/// The server's copy as a mirror should see it: without the fields no change carries.
fn broadcast_view(s: &Session) -> Session {
    let mut v = s.clone();
    v.version = 0;
    v.next_entry = 0;
    for m in &mut v.members {
        m.last_command = 0;
    }
    v
}

fuzz_target!(|input: Input| {
    let now0 = 1_700_000_000_000.0;
    let host = Member {
        id: "discord-1".into(),
        name: "Ana".into(),
        role: Role::Viewer,
        connections: u32::from(input.host_connections % 3),
        buffering: false,
        joined_at: 0.0,
        last_command: 0,
        rtt_ms: 0.0,
        left_at: 0.0,
    };
    let mut s = Session::new("s1", host, ("101".into(), "Harbor Lights".into()), now0)
        .expect("a valid session");
    s.host_elsewhere = input.host_elsewhere;
    let mut mirror = s.clone();
    let mut now = now0;
    let mut fresh = 0u32;
    check_invariants(&s);

    for (dt, step) in input.steps.iter().take(200) {
        now += f64::from(*dt);
        let before = s.clone();
        let mut resync = false;
        let outcome: Outcome = match step {
            Step::Admit { who, id, base, cmd } => {
                let who = pick(&s, *who);
                let base = match base {
                    Base::Current => s.version,
                    Base::Behind(n) => s.version.saturating_sub(u64::from(*n)),
                    Base::Ahead(n) => s.version + 1 + u64::from(*n),
                };
                let cmd = command(&s, cmd);
                match s.admit_command(&who, u64::from(*id), base, &cmd, now) {
                    Ok(Admitted::Applied(changes)) => {
                        assert!(!changes.is_empty(), "applied without changes: {cmd:?}");
                        let m = s.member(&who).expect("the actor is a member");
                        assert_eq!(
                            m.last_command,
                            u64::from(*id).max(before_last(&before, &who))
                        );
                        Some(changes)
                    }
                    Ok(Admitted::Duplicate) => Some(Vec::new()),
                    Err(_) => None,
                }
            }
            Step::Apply { who, cmd } => {
                let who = pick(&s, *who);
                let cmd = command(&s, cmd);
                ok(s.apply(&who, &cmd, now), |c| c)
            }
            Step::Bot { who, name, cmd } => {
                let who = pick(&s, *who);
                let who = if who == "nobody" {
                    "discord-9".into()
                } else {
                    who
                };
                let cmd = command(&s, cmd);
                // The bot enrols and applies in one update of the stored session; each half
                // keeps its own promise, so check the enrolment on its own first.
                match s.enrol(&who, &name.name(), now) {
                    Err(_) => None,
                    Ok(mut changes) => {
                        let enrolled = s.clone();
                        assert_eq!(
                            s.version,
                            before.version + u64::from(!changes.is_empty()),
                            "enrol"
                        );
                        match s.apply_authorized(&who, &cmd, now) {
                            Ok(more) => {
                                assert!(!more.is_empty(), "applied without changes: {cmd:?}");
                                assert_eq!(s.version, enrolled.version + 1, "{cmd:?}");
                                changes.extend(more);
                            }
                            Err(_) => assert_eq!(s, enrolled, "a refused {cmd:?} changed things"),
                        }
                        for c in &changes {
                            apply_over_the_wire(&mut mirror, c);
                        }
                        check_invariants(&s);
                        assert_eq!(broadcast_view(&mirror), broadcast_view(&s), "mirror");
                        continue;
                    }
                }
            }
            Step::JoinDiscord { user, name } => {
                let id = format!("discord-{}", user % 4 + 1);
                ok(s.join(Some(&id), id.clone(), &name.name(), now), |r| r.1)
            }
            Step::JoinAnonymous { rejoin, name } => {
                let existing = rejoin.map(|i| pick(&s, i));
                fresh += 1;
                let new_id = format!("anon{fresh}");
                ok(
                    s.join(existing.as_deref(), new_id, &name.name(), now),
                    |r| r.1,
                )
            }
            Step::Disconnect { who } => ok(s.disconnect(&pick(&s, *who), now), |c| c),
            Step::Report {
                who,
                buffering,
                rtt,
            } => {
                let who = pick(&s, *who);
                ok(
                    s.report(&who, *buffering, rtt.as_ref().map(Num::get), now),
                    |c| c,
                )
            }
            Step::Tick => Some(s.tick(now)),
            Step::GrantCoHost { who } => ok(s.grant_co_host(&pick(&s, *who)), |c| c),
            Step::HostLeftElsewhere => Some(s.host_left_elsewhere()),
            Step::ResetPresence => {
                s.reset_presence(now);
                resync = true;
                Some(Vec::new())
            }
        };

        match &outcome {
            None => assert_eq!(s, before, "a refused {step:?} changed the session"),
            Some(changes) if !resync => assert_eq!(
                s.version,
                before.version + u64::from(!changes.is_empty()),
                "{step:?} gave {changes:?}"
            ),
            Some(_) => assert_eq!(s.version, before.version),
        }
        check_invariants(&s);
        if resync {
            mirror = s.clone();
        } else if let Some(changes) = &outcome {
            for c in changes {
                apply_over_the_wire(&mut mirror, c);
            }
        }
        assert_eq!(
            broadcast_view(&mirror),
            broadcast_view(&s),
            "the mirror diverged after {step:?}"
        );
    }

    let json = serde_json::to_string(&s).expect("a session serializes");
    let back: Session = serde_json::from_str(&json).expect("a stored session loads");
    assert_eq!(back, s, "session JSON round trip");
});

/// The replay counter a member had before the step (0 for a new member).
fn before_last(before: &Session, who: &str) -> u64 {
    before.member(who).map_or(0, |m| m.last_command)
}

/// What a viewer does with a broadcast change: it arrives as JSON and is applied.
///
/// One part of the state is implied rather than carried: an item change (`Cause::Item`) makes
/// the server count every online member as loading, without a `MemberUpdated` for each
/// (`follow::Followed::Applied::item_changed` documents this, and the browser client acts on
/// it). The mirror draws the same conclusion, so the comparison still covers buffering flags.
fn apply_over_the_wire(mirror: &mut Session, change: &Change) {
    let wire = serde_json::to_string(change).expect("a change serializes");
    let back: Change = serde_json::from_str(&wire).expect("a change parses");
    assert_eq!(&back, change, "change round trip through {wire}");
    mirror.apply_change(&back);
    if matches!(
        back,
        Change::Playback {
            cause: Cause::Item { .. },
            ..
        }
    ) {
        for m in &mut mirror.members {
            if m.online() {
                m.buffering = true;
            }
        }
    }
}
