//! The start and end of an item, as viewers see it: "Resume from 42:10" or "Start over" when
//! Plex has a resume point, "Skip intro" / "Skip credits", the "Up next" countdown with Play now
//! and Cancel, the "Finished" card, and the session's options (autoplay of the next episode,
//! skipping intros). Everything is computed from the mirrored session and
//! the group position, so every viewer sees the same countdown; only drivers get buttons.

use leptos::prelude::*;
use marquee_sync::{Command, MarkerKind, Options, Session};

use super::{SyncView, send};

/// What the overlay over the player shows at the group's position.
#[derive(Clone, Debug, PartialEq)]
enum Overlay {
    Nothing,
    /// Plex has a resume point and nobody has started the item yet.
    Resume(f64),
    /// Skip the marker the group is in.
    Skip(MarkerKind),
    /// The next item starts in `seconds`.
    UpNext {
        title: String,
    },
    /// The item ended with nothing after it (or its "Up next" cancelled).
    Finished {
        next: Option<String>,
    },
}

fn overlay(session: &Session, position: f64) -> Overlay {
    if session.ending.finished {
        return Overlay::Finished {
            next: session.up_next().map(|n| n.display()),
        };
    }
    if let Some(at) = session.resume_offer() {
        return Overlay::Resume(at);
    }
    if session.wait.is_some() {
        return Overlay::Nothing;
    }
    if let Some(c) = session.countdown()
        && position >= c.from
    {
        return Overlay::UpNext {
            title: c.next.display(),
        };
    }
    match session.marker_at(position) {
        Some(m) => Overlay::Skip(m.kind),
        None => Overlay::Nothing,
    }
}

/// Whole seconds until the "Up next" countdown ends.
fn seconds_left(session: &Session, position: f64) -> Option<u32> {
    let c = session.countdown()?;
    let left = ((c.until - position) / session.playback.rate.max(0.1)).max(0.0);
    Some(left.ceil() as u32)
}

/// Drawn over the player (inside the session's stage). What it shows changes rarely (a
/// memo), so its buttons stay the same elements while the countdown ticks.
#[component]
pub fn EndOverlay() -> impl IntoView {
    let sync = expect_context::<SyncView>();
    let state = Memo::new(move |_| {
        let position = sync.position.get();
        sync.session.with(|s| {
            s.as_ref()
                .map_or(Overlay::Nothing, |s| overlay(s, position))
        })
    });
    let drives = move || sync.may_drive();
    view! {
        {move || match state.get() {
            Overlay::Nothing => ().into_any(),
            Overlay::Resume(at) => {
                let time = marquee_sync::session::clock_time(at);
                if drives() {
                    view! {
                        <div class="resume-offer" role="group" aria-label="Resume">
                            <button class="button primary" on:click=move |_| send(Command::Start { resume: true })>
                                {format!("Resume from {time}")}
                            </button>
                            <button class="button" on:click=move |_| send(Command::Start { resume: false })>
                                "Start over"
                            </button>
                        </div>
                    }
                        .into_any()
                } else {
                    view! { <p class="resume-offer muted">{format!("Plex left off at {time}")}</p> }.into_any()
                }
            }
            Overlay::Skip(kind) => {
                drives()
                    .then(|| {
                        let label = match kind {
                            MarkerKind::Intro => "Skip intro",
                            MarkerKind::Credits => "Skip credits",
                        };
                        view! {
                            <button class="skip-marker" data-marker=format!("{kind:?}").to_lowercase()
                                on:click=move |_| send(Command::Skip)>
                                {label}
                            </button>
                        }
                    })
                    .into_any()
            }
            Overlay::UpNext { title } => {
                let seconds = move || {
                    let position = sync.position.get();
                    sync.session
                        .with(|s| s.as_ref().and_then(|s| seconds_left(s, position)))
                        .map(|n| format!(" · in {n} s"))
                };
                view! {
                    <div class="up-next" role="status" aria-live="polite">
                        <p>
                            <span class="muted">"Up next: "</span>
                            <strong class="up-next-title">{title}</strong>
                            <span class="up-next-count">{seconds}</span>
                        </p>
                        {drives()
                            .then(|| view! {
                                <div class="up-next-actions">
                                    <button class="button small primary" on:click=move |_| send(Command::Next)>
                                        "Play now"
                                    </button>
                                    <button class="button small" on:click=move |_| send(Command::CancelUpNext)>
                                        "Cancel"
                                    </button>
                                </div>
                            })}
                    </div>
                }
                    .into_any()
            }
            Overlay::Finished { next } => {
                view! {
                    <div class="finished" role="status">
                        <strong>"Finished"</strong>
                        {if drives() {
                            view! {
                                <div class="finished-actions">
                                    <button class="button small primary" on:click=move |_| send(Command::Play)>
                                        "Play again"
                                    </button>
                                    {next.map(|title| view! {
                                        <button class="button small" on:click=move |_| send(Command::Next)>
                                            {format!("Play {title}")}
                                        </button>
                                    })}
                                </div>
                                <p class="muted">"…or pick something for the queue."</p>
                            }
                                .into_any()
                        } else {
                            view! { <p class="muted">"Waiting for someone to pick what's next."</p> }.into_any()
                        }}
                    </div>
                }
                    .into_any()
            }
        }}
    }
}

/// The session's options, for those who may drive (read-only for the rest).
#[component]
pub fn EndOptions() -> impl IntoView {
    let sync = expect_context::<SyncView>();
    let options = move || {
        sync.session
            .with(|s| s.as_ref().map(|s| s.options).unwrap_or_default())
    };
    let set = move |change: fn(&mut Options, bool)| {
        move |e: leptos::ev::Event| {
            let mut next = options();
            change(&mut next, event_target_checked(&e));
            send(Command::SetOptions { options: next });
        }
    };
    view! {
        <div class="session-options">
            <label>
                <input type="checkbox" name="autoplay"
                    prop:checked=move || options().autoplay
                    prop:disabled=move || !sync.may_drive()
                    on:change=set(|o, on| o.autoplay = on) />
                " Play the next episode automatically"
            </label>
            <label>
                <input type="checkbox" name="skip_intros"
                    prop:checked=move || options().skip_intros
                    prop:disabled=move || !sync.may_drive()
                    on:change=set(|o, on| o.skip_intros = on) />
                " Skip intros automatically"
            </label>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_sync::{EntryInfo, Marker, Member, Role, Suggestion};

    fn session(playing_from: f64) -> Session {
        let host = Member {
            id: "ana".into(),
            name: "Ana".into(),
            role: Role::Host,
            connections: 1,
            buffering: false,
            joined_at: 0.0,
            last_command: 0,
            rtt_ms: 0.0,
            left_at: 0.0,
        };
        let mut s =
            Session::new("s", host, ("2110".into(), "First Flame".into()), 0.0).expect("session");
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
        s.playback = marquee_sync::Playback {
            playing: true,
            position: playing_from,
            at: 0.0,
            rate: 1.0,
        };
        s
    }

    #[test]
    fn a_resume_point_is_offered_until_someone_starts() {
        let mut s = session(0.0);
        s.playback.playing = false;
        if let Some(info) = s.queue[0].info.as_mut() {
            info.resume = Some(42.0);
        }
        assert_eq!(overlay(&s, 0.0), Overlay::Resume(42.0));
        s.ending.started = true;
        assert_eq!(overlay(&s, 0.0), Overlay::Nothing);
    }

    #[test]
    fn the_overlay_follows_the_position() {
        let s = session(0.0);
        assert_eq!(overlay(&s, 1.0), Overlay::Nothing);
        assert_eq!(overlay(&s, 5.0), Overlay::Skip(MarkerKind::Intro));
        assert_eq!(
            overlay(&s, 110.2),
            Overlay::UpNext {
                title: "S01E02 · The Long Street".into(),
            }
        );
        assert_eq!(seconds_left(&s, 110.2), Some(8));
        let mut cancelled = s.clone();
        cancelled.ending.cancelled = true;
        assert_eq!(
            overlay(&cancelled, 110.2),
            Overlay::Skip(MarkerKind::Credits)
        );
        cancelled.ending.finished = true;
        assert_eq!(
            overlay(&cancelled, 120.0),
            Overlay::Finished {
                next: Some("S01E02 · The Long Street".into())
            }
        );
    }
}
