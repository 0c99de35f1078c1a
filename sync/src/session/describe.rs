//! The human sentence for a broadcast change ("Ana paused"), so every viewer sees who did what.

use super::command::{Cause, Change};
use super::model::{Actor, Control, Session};

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
            Cause::Item { .. } if by.is_none() => format!(
                "Up next: {}",
                session
                    .current_entry()
                    .map(|e| e.title.as_str())
                    .unwrap_or("nothing")
            ),
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
            Cause::Ended => "Finished".to_owned(),
            Cause::Skipped { marker, .. } => match by {
                Some(a) => format!("{} skipped {}", a.name, marker.noun()),
                None => format!("Skipped {}", marker.noun()),
            },
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
        Change::Options { options } => Some(format!(
            "{who} turned {} and {}",
            if options.autoplay {
                "autoplay on"
            } else {
                "autoplay off"
            },
            if options.skip_intros {
                "intro skipping on"
            } else {
                "intro skipping off"
            }
        )),
        Change::UpNextCancelled => Some(format!("{who} cancelled Up next")),
        Change::Ending { .. } => None,
        Change::MemberUpdated { .. }
        | Change::MembersLeft { .. }
        | Change::HostElsewhere { .. } => None,
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
