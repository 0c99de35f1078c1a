//! Watching together: the session page (`/session/{id}`), the "Watch together" button, and the
//! browser client that keeps everyone's player on one timeline.
//!
//! The page renders on the server with the session's snapshot and the current item's player;
//! once hydrated, [`client`] joins over the WebSocket (asking for a display name the first time)
//! and drives the player. The side panel shows the share link, who is here (and who is
//! buffering), the queue and how well this viewer is in sync.

#[cfg(feature = "hydrate")]
pub mod client;
pub mod ending;
pub mod remembered;
pub mod state;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use marquee_sync::session::clock_time;
use marquee_sync::{Command, Control, MemberId, Role, Session};

use crate::components::layout::{ErrorBox, Loading};
use crate::components::pick::PlayablePicker;
use crate::error::AppError;
use crate::model::{CreatedSession, ItemCard, PlaybackInfo};
use crate::player::{Player, SessionHooks};
pub use state::{Conn, SyncView};

/// Starts a watch session on an item; the caller becomes its host. (Who may: the server's
/// `Sessions` door.)
#[server(endpoint = "session/create")]
pub async fn create_session(rating_key: String, name: String) -> Result<CreatedSession, AppError> {
    let services = crate::ssr::services()?;
    crate::ssr::sessions::create(&services, &rating_key, &name).await
}

/// A session's snapshot, for the page's first render.
#[server(endpoint = "session/get")]
pub async fn get_session(id: String) -> Result<Session, AppError> {
    let services = crate::ssr::services()?;
    crate::ssr::sessions::get(&services, &id).await
}

/// How to play what the session plays now (its current queue entry), for everyone the session
/// admits: guests may watch a session without browsing the library.
#[server(endpoint = "session/playback")]
pub async fn get_session_playback(
    id: String,
    quality: Option<u32>,
    audio: Option<String>,
    burn: Option<String>,
) -> Result<Option<PlaybackInfo>, AppError> {
    let picks = crate::ssr::tracks::TrackPicks::parse(audio.as_deref(), burn.as_deref())?;
    let services = crate::ssr::services()?;
    let session = crate::ssr::sessions::get(&services, &id).await?;
    match session.current_entry() {
        Some(entry) => services
            .library
            .playback(
                &entry.rating_key,
                None,
                quality,
                &picks,
                &crate::ssr::account::transcode_owner(),
            )
            .await
            .map(Some),
        None => Ok(None),
    }
}

/// Sends a command to the group (no-op on the server).
pub fn send(command: Command) {
    #[cfg(feature = "hydrate")]
    client::send(command);
    #[cfg(not(feature = "hydrate"))]
    let _ = command;
}

/// `/session/{id}`.
#[component]
pub fn SessionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = Resource::new(id, get_session);
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(session) => view! { <SessionRoom session /> }.into_any(),
                    Err(err) => view! { <ErrorBox err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A page that knows who the viewer is without asking: the Discord Activity (signed in through
/// Discord, its token already given to the client with `client::set_token`).
#[derive(Clone, Debug)]
pub struct Embedded {
    /// The viewer's Discord display name.
    pub name: String,
}

/// One session: the player, and beside it (below it on narrow screens) who is watching, the
/// queue and the sync status. `embedded` joins at once and leaves out the name form and share
/// link (the Activity's voice channel is how people are invited).
#[component]
pub fn SessionRoom(
    session: Session,
    #[prop(optional)] embedded: Option<Embedded>,
) -> impl IntoView {
    let is_embedded = embedded.is_some();
    let sync = SyncView::new(Some(session.clone()));
    provide_context(sync);
    let id = session.id.clone();
    let joined = RwSignal::new(false);

    let join = {
        let id = id.clone();
        move |name: String| {
            remembered::set_name(&name);
            joined.set(true);
            #[cfg(feature = "hydrate")]
            client::start(sync, id.clone(), name);
            #[cfg(not(feature = "hydrate"))]
            let _ = (&id, name);
        }
    };
    // A returning viewer (name remembered) joins at once, and so does an embedded one.
    {
        let join = join.clone();
        let known = embedded.map(|e| e.name);
        Effect::new(move |_| {
            if !joined.get_untracked()
                && let Some(name) = known.clone().or_else(remembered::name)
            {
                join(name);
            }
        });
    }
    #[cfg(feature = "hydrate")]
    on_cleanup(client::stop);

    let current_key = Memo::new(move |_| {
        sync.session.with(|s| {
            s.as_ref()
                .and_then(|s| s.current_entry().map(|e| e.rating_key.clone()))
        })
    });
    let session_id = id.clone();
    let query = leptos_router::hooks::use_query_map();
    let playback = Resource::new(
        move || {
            let q = query.read();
            let quality = q.get("quality").and_then(|q| q.parse::<u32>().ok());
            (current_key.get(), quality, q.get("audio"), q.get("burn"))
        },
        move |(key, quality, audio, burn)| {
            let id = session_id.clone();
            async move {
                match key {
                    Some(_) => get_session_playback(id, quality, audio, burn).await,
                    None => Ok(None),
                }
            }
        },
    );
    let title = move || {
        sync.session
            .with(|s| s.as_ref().map(|s| s.title.clone()))
            .unwrap_or_default()
    };
    let hooks = player_hooks(sync);

    view! {
        <Title text=move || format!("{} (together)", title()) />
        <div class="session" data-session=id.clone()>
            <div class="session-main">
                <div class="session-stage">
                    <Suspense fallback=Loading>
                        {move || Suspend::new(async move {
                            match playback.await {
                                Ok(Some(info)) => view! { <Player info session=hooks /> }.into_any(),
                                Ok(None) => {
                                    view! { <p class="empty">"The queue is empty. Add something below."</p> }
                                        .into_any()
                                }
                                Err(err) => view! { <ErrorBox err /> }.into_any(),
                            }
                        })}
                    </Suspense>
                    <ending::EndOverlay />
                </div>
                <Notice />
            </div>
            <aside class="session-side">
                <h1 class="session-title">{title}</h1>
                <SyncStatus />
                <Show when=move || !joined.get() && !is_embedded>
                    <JoinForm on_join=join.clone() />
                </Show>
                {(!is_embedded).then(|| view! { <ShareLink id=id.clone() /> })}
                <Members />
                <Queue />
                <ending::EndOptions />
            </aside>
        </div>
    }
}

/// What the player tells this session: its controls become commands for the group, and its
/// `<video>` is handed to the [`client`] that keeps it on the group's timeline.
fn player_hooks(sync: SyncView) -> SessionHooks {
    SessionHooks {
        group_playing: Signal::derive(move || {
            sync.session.with(|s| {
                s.as_ref().is_some_and(|s| {
                    s.playback.playing || s.wait.as_ref().is_some_and(|w| w.resume)
                })
            })
        }),
        needs_click: sync.needs_click.into(),
        on_play: Callback::new(|()| send(Command::Play)),
        on_pause: Callback::new(|()| send(Command::Pause)),
        on_seek: Callback::new(|position| send(Command::Seek { position })),
        on_video_attached: Callback::new(|video: web_sys::HtmlVideoElement| {
            #[cfg(feature = "hydrate")]
            client::attach_video(video);
            #[cfg(not(feature = "hydrate"))]
            let _ = video;
        }),
        on_stall: Callback::new(|stalled: bool| {
            #[cfg(feature = "hydrate")]
            client::video_stalled(stalled);
            #[cfg(not(feature = "hydrate"))]
            let _ = stalled;
        }),
        on_gesture_play: Callback::new(|()| {
            #[cfg(feature = "hydrate")]
            client::user_gesture_play();
        }),
    }
}

/// "Ana paused" lines (fade after a few seconds) and problems with this viewer's actions.
#[component]
fn Notice() -> impl IntoView {
    let sync = expect_context::<SyncView>();
    let (visible, set_visible) = signal(None::<String>);
    Effect::new(move |_| {
        if let Some((serial, text)) = sync.notice.get() {
            set_visible.set(Some(text));
            set_timeout(
                move || {
                    if sync.notice.get_untracked().map(|(n, _)| n) == Some(serial) {
                        set_visible.set(None);
                    }
                },
                std::time::Duration::from_secs(4),
            );
        }
    });
    view! {
        <div class="session-notices" aria-live="polite">
            {move || visible.get().map(|t| view! { <p class="notice">{t}</p> })}
            {move || {
                sync.problem
                    .get()
                    .map(|p| {
                        view! {
                            <p class="problem" role="alert">
                                {p}
                                <button class="link" on:click=move |_| sync.problem.set(None)>
                                    "Dismiss"
                                </button>
                            </p>
                        }
                    })
            }}
        </div>
    }
}

#[component]
fn SyncStatus() -> impl IntoView {
    let sync = expect_context::<SyncView>();
    let label = move || match sync.conn.get() {
        Conn::Idle => "Not joined yet".to_owned(),
        Conn::Connecting => "Connecting…".to_owned(),
        Conn::Live => match sync.drift_ms.get() {
            Some(d) if d.abs() < 50.0 => "In sync".to_owned(),
            Some(d) if d > 0.0 => format!("Catching up ({:.0} ms ahead)", d),
            Some(d) => format!("Catching up ({:.0} ms behind)", -d),
            None => "Connected".to_owned(),
        },
        Conn::Reconnecting { attempt } => format!("Connection lost, reconnecting (try {attempt})…"),
        Conn::Closed(reason) => reason,
    };
    let state = move || match sync.conn.get() {
        Conn::Live => "live",
        Conn::Reconnecting { .. } | Conn::Connecting => "pending",
        Conn::Closed(_) => "closed",
        Conn::Idle => "idle",
    };
    view! {
        <p class="sync-status" data-state=state>
            <span class="dot" aria-hidden="true"></span>
            <span class="sync-label">{label}</span>
            {move || {
                sync.rtt_ms
                    .get()
                    .map(|r| view! { <span class="muted rtt">{format!(" · {r:.0} ms round trip")}</span> })
            }}
        </p>
    }
}

#[component]
fn JoinForm<F>(on_join: F) -> impl IntoView
where
    F: Fn(String) + Clone + Send + Sync + 'static,
{
    let (name, set_name) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match marquee_sync::DisplayName::parse(&name.get_untracked()) {
            Ok(n) => on_join(n.into()),
            Err(e) => set_error.set(Some(e.to_string())),
        }
    };
    view! {
        <form class="join-form" on:submit=submit>
            <label for="join-name">"Your name"</label>
            <div class="row">
                <input
                    id="join-name"
                    name="name"
                    maxlength="32"
                    autocomplete="nickname"
                    placeholder="How others see you"
                    prop:value=name
                    on:input=move |e| set_name.set(event_target_value(&e))
                />
                <button type="submit" class="button primary">"Join"</button>
            </div>
            {move || error.get().map(|e| view! { <p class="problem" role="alert">{e}</p> })}
        </form>
    }
}

#[component]
fn ShareLink(id: String) -> impl IntoView {
    let path = format!("/session/{id}");
    let (copied, set_copied) = signal(false);
    let href = path.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let url = format!("{}{}", w.location().origin().unwrap_or_default(), href);
            let _ = w.navigator().clipboard().write_text(&url);
        }
        let _ = &href;
        set_copied.set(true);
    };
    view! {
        <div class="share">
            <span class="muted">"Invite others: "</span>
            <a class="share-link" href=path.clone()>{path.clone()}</a>
            <button class="button small" on:click=copy>
                {move || if copied.get() { "Copied" } else { "Copy link" }}
            </button>
        </div>
    }
}

#[component]
fn Members() -> impl IntoView {
    let sync = expect_context::<SyncView>();
    let members = move || {
        let me = sync.member.get();
        sync.session.with(|s| {
            let Some(s) = s else { return Vec::new() };
            let waiting: Vec<MemberId> = s.wait.iter().flat_map(|w| w.members.clone()).collect();
            let mut list: Vec<_> = s
                .members
                .iter()
                .map(|m| {
                    (
                        m.id.clone(),
                        m.name.clone(),
                        m.role,
                        m.online(),
                        m.buffering || waiting.contains(&m.id),
                        me.as_deref() == Some(m.id.as_str()),
                    )
                })
                .collect();
            list.sort_by_key(|m| (!m.3, m.2 != Role::Host));
            list
        })
    };
    let am_host = move || sync.my_role() == Role::Host;
    let control = move || {
        sync.session
            .with(|s| s.as_ref().map(|s| s.control).unwrap_or_default())
    };
    let set_control = move |e: leptos::ev::Event| {
        let control = match event_target_value(&e).as_str() {
            "host_and_co_hosts" => Control::HostAndCoHosts,
            "host_only" => Control::HostOnly,
            _ => Control::Everyone,
        };
        send(Command::SetControl { control });
    };
    view! {
        <section class="members">
            <h2>"Watching"</h2>
            <ul>
                <For each=members key=|m| (m.0.clone(), m.2, m.3, m.4) let:m>
                    <li class:offline=!m.3 class:buffering=m.4 data-member=m.1.clone()>
                        <span class="name">{m.1.clone()}</span>
                        {m.5.then(|| view! { <span class="muted">" (you)"</span> })}
                        {(m.2 == Role::Host).then(|| view! { <span class="badge">"host"</span> })}
                        {(m.2 == Role::CoHost).then(|| view! { <span class="badge">"co-host"</span> })}
                        {m.4.then(|| view! { <span class="badge warn">"buffering"</span> })}
                        {(!m.3).then(|| view! { <span class="muted">" · away"</span> })}
                        {
                            let (id, role, me) = (m.0.clone(), m.2, m.5);
                            move || (am_host() && !me).then(|| {
                                let promote = id.clone();
                                let hand_over = id.clone();
                                let (label, next) = if role == Role::CoHost {
                                    ("Remove co-host", Role::Viewer)
                                } else {
                                    ("Make co-host", Role::CoHost)
                                };
                                view! {
                                    <span class="actions">
                                        <button class="link" on:click=move |_| send(Command::SetRole { member: promote.clone(), role: next })>{label}</button>
                                        <button class="link" on:click=move |_| send(Command::SetRole { member: hand_over.clone(), role: Role::Host })>"Make host"</button>
                                    </span>
                                }
                            })
                        }
                    </li>
                </For>
            </ul>
            {move || if am_host() {
                view! {
                    <label class="control-policy">
                        "Who can drive "
                        <select on:change=set_control prop:value=move || match control() {
                            Control::Everyone => "everyone",
                            Control::HostAndCoHosts => "host_and_co_hosts",
                            Control::HostOnly => "host_only",
                        }>
                            <option value="everyone">"Everyone"</option>
                            <option value="host_and_co_hosts">"Host and co-hosts"</option>
                            <option value="host_only">"Host only"</option>
                        </select>
                    </label>
                }
                    .into_any()
            } else if !sync.may_drive() {
                view! { <p class="muted control-note">{control().refusal()}</p> }.into_any()
            } else {
                ().into_any()
            }}
        </section>
    }
}

#[component]
fn Queue() -> impl IntoView {
    let sync = expect_context::<SyncView>();
    let entries = move || {
        sync.session.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.queue
                        .iter()
                        .enumerate()
                        .map(|(i, e)| (i, e.id, e.title.clone(), s.current == Some(e.id)))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let position = move || {
        sync.session.with(|s| {
            s.as_ref()
                .filter(|s| !s.playback.playing)
                .map(|s| clock_time(s.playback.position))
        })
    };
    view! {
        <section class="queue">
            <h2>"Queue"</h2>
            <ol>
                <For each=entries key=|e| (e.1, e.0, e.3) let:e>
                    <li class:current=e.3>
                        <span class="title">{e.2.clone()}</span>
                        {e.3.then(|| view! { <span class="muted">{move || position().map(|p| format!(" · paused at {p}"))}</span> })}
                        <span class="actions" class:hidden=move || !sync.may_drive()>
                            {(!e.3).then(|| view! {
                                <button class="link" on:click=move |_| send(Command::PlayEntry { entry: e.1 })>"Play now"</button>
                            })}
                            <button class="link" aria-label="Move up" on:click=move |_| send(Command::QueueMove { entry: e.1, to: e.0.saturating_sub(1) })>"↑"</button>
                            <button class="link" aria-label="Remove" on:click=move |_| send(Command::QueueRemove { entry: e.1 })>"Remove"</button>
                        </span>
                    </li>
                </For>
            </ol>
            <div class="queue-controls" class:hidden=move || !sync.may_drive()>
                <button class="button small" on:click=move |_| send(Command::Previous)>"Previous"</button>
                <button class="button small" on:click=move |_| send(Command::Next)>"Next"</button>
            </div>
            <PlayablePicker
                placeholder="Add to the queue: search the library"
                action="Add"
                on_pick=|item: ItemCard| send(Command::QueueAdd { rating_key: item.rating_key, title: item.title })
            />
        </section>
    }
}

/// "Watch together" on an item: asks for a name, creates the session, opens it.
#[component]
pub fn WatchTogether(rating_key: String) -> impl IntoView {
    let (open, set_open) = signal(false);
    let (name, set_name) = signal(remembered::name().unwrap_or_default());
    let create = ServerAction::<CreateSession>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            remembered::set_member(&created.id, &created.member, Some(&created.member_key));
            remembered::set_name(&name.get_untracked());
            navigate(&created.url, Default::default());
        }
    });
    let key = rating_key.clone();
    view! {
        <div class="together">
            <Show
                when=move || open.get()
                fallback=move || view! {
                    <button class="button" on:click=move |_| set_open.set(true)>"Watch together"</button>
                }
            >
                <form class="join-form" on:submit={
                    let key = key.clone();
                    move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        create.dispatch(CreateSession { rating_key: key.clone(), name: name.get_untracked() });
                    }
                }>
                    <label for="host-name">"Your name"</label>
                    <div class="row">
                        <input id="host-name" maxlength="32" prop:value=name on:input=move |e| set_name.set(event_target_value(&e)) />
                        <button type="submit" class="button primary" disabled=move || create.pending().get()>
                            "Start session"
                        </button>
                    </div>
                </form>
            </Show>
            {move || match create.value().get() {
                Some(Err(e)) => Some(view! { <p class="problem" role="alert">{e.to_string()}</p> }),
                _ => None,
            }}
        </div>
    }
    .into_any()
}
