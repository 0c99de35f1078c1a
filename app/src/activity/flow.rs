//! The Activity's start-up in the browser: the Embedded App SDK handshake and sign-in, the
//! channel's session, and keeping the Marquee token fresh for the session's WebSocket.
//!
//! Tokens live in memory only: inside Discord the page is a third-party iframe, where cookies
//! are withheld and storage may be partitioned or cleared.

use std::cell::RefCell;

use leptos::prelude::{RwSignal, Set};
use marquee_sync::Session;
use serde::Deserialize;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};

use super::Stage;
use super::sdk::{self, DiscordSdk};
use crate::session::client;

/// How long Discord's client gets to answer the handshake before the page says so.
const HANDSHAKE_TIMEOUT_MS: i32 = 15_000;
/// Refresh the access token this long before it expires.
const REFRESH_MARGIN_S: u64 = 60;

/// Where this Activity runs, and its Marquee tokens.
struct Launch {
    instance_id: String,
    channel_id: Option<String>,
    guild_id: Option<String>,
    access: String,
    refresh: String,
    name: String,
    stage: RwSignal<Stage>,
}

thread_local! {
    static LAUNCH: RefCell<Option<Launch>> = const { RefCell::new(None) };
    /// The SDK stays alive for the page's lifetime (it listens for Discord's messages).
    static SDK: RefCell<Option<DiscordSdk>> = const { RefCell::new(None) };
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct SignedIn {
    #[serde(flatten)]
    tokens: Tokens,
    discord_access_token: String,
    user: SignedInUser,
    session: Option<Session>,
}

#[derive(Deserialize)]
struct SignedInUser {
    name: String,
}

#[derive(Deserialize)]
struct Started {
    session: Session,
}

/// Opens `url` in the person's browser through Discord's client (an Activity's iframe may not
/// open windows itself); false outside the Activity (no SDK).
pub fn open_external_link(url: &str) -> bool {
    let Some(discord) = SDK.with(|s| s.borrow().clone()) else {
        return false;
    };
    let promise = discord
        .commands()
        .open_external_link(&js_value(&json!({ "url": url })));
    spawn_local(async move {
        if let Err(e) = JsFuture::from(promise).await {
            leptos::logging::warn!("Discord did not open the link: {}", js_message(&e));
        }
    });
    true
}

/// Runs the start-up, showing each stage (and any failure) in `stage`.
pub fn start(stage: RwSignal<Stage>, participants: RwSignal<Option<usize>>) {
    spawn_local(async move {
        if let Err(why) = run(stage, participants).await {
            stage.set(Stage::Failed(why));
        }
    });
}

/// The user picked `rating_key` to start the channel's session.
pub fn pick(rating_key: String) {
    let Some((body, access, stage)) = LAUNCH.with(|l| {
        l.borrow().as_ref().map(|l| {
            (
                json!({
                    "instance_id": l.instance_id,
                    "channel_id": l.channel_id,
                    "guild_id": l.guild_id,
                    "rating_key": rating_key,
                }),
                l.access.clone(),
                l.stage,
            )
        })
    }) else {
        return;
    };
    stage.set(Stage::Starting);
    spawn_local(async move {
        match post_json("/api/activity/start", &body, Some(&access)).await {
            Ok(reply) => match serde_json::from_value::<Started>(reply) {
                Ok(started) => watch(stage, started.session),
                Err(_) => stage.set(Stage::Failed(
                    "Marquee answered with something this page does not understand; reload the Activity.".into(),
                )),
            },
            Err(why) => stage.set(Stage::Failed(why)),
        }
    });
}

fn watch(stage: RwSignal<Stage>, session: Session) {
    let name = LAUNCH.with(|l| l.borrow().as_ref().map(|l| l.name.clone()));
    stage.set(Stage::Watching {
        session: Box::new(session),
        name: name.unwrap_or_default(),
    });
}

async fn run(stage: RwSignal<Stage>, participants: RwSignal<Option<usize>>) -> Result<(), String> {
    use_proxy_for_server_functions();
    let client_id = body_data("clientId").filter(|id| !id.is_empty()).ok_or(
        "Discord sign-in is not set up on this Marquee server, so the Activity cannot start. \
         Its admin sets MARQUEE_DISCORD_CLIENT_ID and MARQUEE_DISCORD_CLIENT_SECRET.",
    )?;
    crate::script::ensure_loaded(
        &crate::assets::pkg_path(sdk::SCRIPT),
        sdk::GLOBAL,
        "Discord SDK",
    )
    .await?;
    let discord = DiscordSdk::new(&client_id).map_err(|_| {
        "This page is the Discord Activity: launch it from a voice channel in Discord. \
         Outside Discord, open Marquee's home page instead."
            .to_string()
    })?;
    SDK.with(|s| *s.borrow_mut() = Some(discord.clone()));

    await_with_timeout(discord.ready(), HANDSHAKE_TIMEOUT_MS)
        .await
        .map_err(|_| {
            "Discord did not answer the Activity. Close it and launch it again.".to_string()
        })?;
    stage.set(Stage::SigningIn);

    let args = js_value(&json!({
        "client_id": client_id,
        "response_type": "code",
        "state": "",
        "prompt": "none",
        "scope": ["identify"],
    }));
    let authorized = JsFuture::from(discord.commands().authorize(&args))
        .await
        .map_err(|e| {
            format!(
                "Discord did not sign you in ({}). Close the Activity and launch it again.",
                js_message(&e)
            )
        })?;
    let code = js_sys::Reflect::get(&authorized, &JsValue::from_str("code"))
        .ok()
        .and_then(|c| c.as_string())
        .ok_or("Discord gave no sign-in code.")?;

    let instance_id = discord.instance_id();
    let channel_id = discord.channel_id();
    let guild_id = discord.guild_id();
    let reply = post_json(
        "/api/activity/sign-in",
        &json!({
            "code": code,
            "instance_id": instance_id,
            "channel_id": channel_id,
            "guild_id": guild_id,
        }),
        None,
    )
    .await?;
    let signed: SignedIn = serde_json::from_value(reply)
        .map_err(|_| "Marquee answered with something this page does not understand.")?;
    JsFuture::from(discord.commands().authenticate(&js_value(
        &json!({"access_token": signed.discord_access_token}),
    )))
    .await
    .map_err(|e| format!("Discord refused the sign-in ({}).", js_message(&e)))?;

    client::set_token(Some(signed.tokens.access_token.clone()));
    send_token_with_requests();
    client::on_token_expired(|| spawn_local(refresh()));
    schedule_refresh(signed.tokens.expires_in);
    LAUNCH.with(|l| {
        *l.borrow_mut() = Some(Launch {
            instance_id,
            channel_id,
            guild_id,
            access: signed.tokens.access_token,
            refresh: signed.tokens.refresh_token,
            name: signed.user.name.clone(),
            stage,
        })
    });
    follow_participants(&discord, participants).await;

    match signed.session {
        Some(session) => watch(stage, session),
        None => stage.set(Stage::Pick {
            name: signed.user.name,
        }),
    }
    Ok(())
}

/// Shows how many people are in this Activity (Discord pushes the list as it changes). Best
/// effort: the session works without it.
async fn follow_participants(discord: &DiscordSdk, participants: RwSignal<Option<usize>>) {
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let list = js_sys::Reflect::get(&event, &JsValue::from_str("participants")).ok();
        if let Some(array) = list.and_then(|l| l.dyn_into::<js_sys::Array>().ok()) {
            participants.set(Some(array.length() as usize));
        }
    });
    let subscribed = discord.subscribe(
        "ACTIVITY_INSTANCE_PARTICIPANTS_UPDATE",
        listener.as_ref().unchecked_ref(),
    );
    // The subscription lasts as long as the page.
    listener.forget();
    if let Err(e) = JsFuture::from(subscribed).await {
        leptos::logging::warn!("participant updates unavailable: {}", js_message(&e));
    }
}

fn schedule_refresh(expires_in: u64) {
    let delay_ms = expires_in.saturating_sub(REFRESH_MARGIN_S).max(5) * 1000;
    let callback = Closure::once_into_js(|| spawn_local(refresh()));
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            callback.unchecked_ref(),
            delay_ms.min(i32::MAX as u64) as i32,
        );
    }
}

/// Trades the refresh token for a new pair; on failure the user is told to relaunch.
async fn refresh() {
    let Some((token, stage)) =
        LAUNCH.with(|l| l.borrow().as_ref().map(|l| (l.refresh.clone(), l.stage)))
    else {
        return;
    };
    match post_json(
        "/api/activity/refresh",
        &json!({"refresh_token": token}),
        None,
    )
    .await
    .and_then(|v| serde_json::from_value::<Tokens>(v).map_err(|e| e.to_string()))
    {
        Ok(tokens) => {
            client::set_token(Some(tokens.access_token.clone()));
            schedule_refresh(tokens.expires_in);
            LAUNCH.with(|l| {
                if let Some(l) = l.borrow_mut().as_mut() {
                    l.access = tokens.access_token;
                    l.refresh = tokens.refresh_token;
                }
            });
        }
        Err(why) => stage.set(Stage::Failed(format!(
            "Your sign-in has ended ({why}). Close the Activity and launch it again."
        ))),
    }
}

/// Server functions need to know who is asking, and inside Discord the browser sends no cookie:
/// every request this page makes to its own origin carries the access token instead (the
/// session client's current one, refreshed in place). Wraps `window.fetch`, which the server
/// functions' client calls; other origins get their requests untouched.
fn send_token_with_requests() {
    thread_local! {
        static WRAPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if WRAPPED.with(|w| w.replace(true)) {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(original) = js_sys::Reflect::get(&window, &JsValue::from_str("fetch"))
        .and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return;
    };
    let origin = window.location().origin().unwrap_or_default();
    let target = window.clone();
    let wrapped = Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(
        move |input: JsValue, init: JsValue| -> JsValue {
            let request = if init.is_undefined() {
                match input.dyn_ref::<web_sys::Request>() {
                    Some(r) => web_sys::Request::new_with_request(r),
                    None => web_sys::Request::new_with_str(&input.as_string().unwrap_or_default()),
                }
            } else {
                let init: web_sys::RequestInit = init.clone().unchecked_into();
                match input.dyn_ref::<web_sys::Request>() {
                    Some(r) => web_sys::Request::new_with_request_and_init(r, &init),
                    None => web_sys::Request::new_with_str_and_init(
                        &input.as_string().unwrap_or_default(),
                        &init,
                    ),
                }
            };
            let Ok(request) = request else {
                return original
                    .call2(&target, &input, &init)
                    .unwrap_or(JsValue::UNDEFINED);
            };
            if request.url().starts_with(&origin)
                && let Some(token) = client::token()
            {
                let _ = request
                    .headers()
                    .set("authorization", &format!("Bearer {token}"));
            }
            original
                .call1(&target, &request)
                .unwrap_or(JsValue::UNDEFINED)
        },
    );
    let _ = js_sys::Reflect::set(&window, &JsValue::from_str("fetch"), wrapped.as_ref());
    // The wrapper lasts as long as the page.
    wrapped.forget();
}

/// Server functions go through the same prefix as everything else.
fn use_proxy_for_server_functions() {
    let prefix = crate::paths::prefix();
    if prefix.is_empty() {
        return;
    }
    if let Some(origin) = web_sys::window().and_then(|w| w.location().origin().ok()) {
        let root: &'static str = Box::leak(format!("{origin}{prefix}").into_boxed_str());
        // Set once per page; a second call keeps the first (identical) value.
        let _ = leptos::server_fn::client::try_set_server_url(root);
    }
}

fn body_data(key: &str) -> Option<String> {
    let body = web_sys::window()?.document()?.body()?;
    body.dataset().get(key)
}

fn js_value(value: &Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

fn js_message(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "no reason given".into())
}

/// `promise`, or an error after `ms`.
async fn await_with_timeout(promise: js_sys::Promise, ms: i32) -> Result<JsValue, JsValue> {
    let timeout = js_sys::Promise::new(&mut |_, reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&reject, ms);
        }
    });
    JsFuture::from(js_sys::Promise::race(&js_sys::Array::of2(
        &promise, &timeout,
    )))
    .await
}

/// POSTs JSON to one of Marquee's paths (through the proxy prefix), with an optional bearer
/// token; the reply's JSON, or the server's sentence when it refused.
async fn post_json(path: &str, body: &Value, bearer: Option<&str>) -> Result<Value, String> {
    let unreachable = || "Marquee could not be reached; check your connection.".to_string();
    let window = web_sys::window().ok_or_else(unreachable)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_body(&JsValue::from_str(&body.to_string()));
    let headers = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&headers, &"content-type".into(), &"application/json".into());
    if let Some(token) = bearer {
        let _ = js_sys::Reflect::set(
            &headers,
            &"authorization".into(),
            &format!("Bearer {token}").into(),
        );
    }
    init.set_headers(&headers);
    let url = crate::paths::local(path);
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|_| unreachable())?
        .unchecked_into();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    }
    .unwrap_or_default();
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if response.ok() {
        Ok(value)
    } else {
        Err(value["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("Marquee answered HTTP {}", response.status())))
    }
}
