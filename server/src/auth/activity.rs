//! The Discord Activity's sign-in and session binding (`/api/activity/…`).
//!
//! Inside Discord the Activity runs in a third-party iframe, where browsers withhold cookies, so
//! its Marquee tokens travel in JSON bodies instead: the page keeps them in memory and sends the
//! access token in its WebSocket hello. No cookie is read or set here, so these routes need no
//! CSRF guard (a forged request carries no credential the attacker does not already hold).
//!
//! 1. `sign-in`: the page sends the code the Embedded App SDK's `authorize` gave it, with the
//!    Activity's `instance_id`. Marquee exchanges the code (the client secret stays here) and
//!    asks Discord, with the bot's token, where that instance runs and who is in it
//!    ([`BotApi::instance_with`](super::bot_api::BotApi::instance_with)). A person Discord does
//!    not list in the instance is refused; the channel and server are Discord's answer, never
//!    the page's (its query string can say anything). Then it upserts the user and answers with
//!    the Discord access token (for the SDK's `authenticate`), a Marquee token pair, and the
//!    channel's session if one is playing, with the user enrolled in it. (Their WebSocket hello
//!    settles a control role, as on the web page: see `auth::roles`.)
//! 2. `start`: nothing was playing in the channel; the user picked something, and becomes host.
//!    The place is checked with Discord again (the answer is cached for seconds).
//! 3. `refresh`: the body-token twin of `/auth/refresh`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bot::activity::ActivityPlace;
use bot::service::Linked;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::routes::json_error;
use super::{AuthError, Issued};
use crate::state::AppState;

/// Longest `instance_id` accepted (Discord's are about 40 characters).
const MAX_INSTANCE_ID: usize = 128;

/// The launch parameters Discord gave the Activity, as the page passes them on. Only the
/// instance id is read: the page's `channel_id` and `guild_id` are ignored.
#[derive(Deserialize)]
pub struct Launch {
    instance_id: String,
}

#[derive(Deserialize)]
pub struct SignInBody {
    code: String,
    #[serde(flatten)]
    launch: Launch,
}

#[derive(Deserialize)]
pub struct StartBody {
    #[serde(flatten)]
    launch: Launch,
    rating_key: String,
}

#[derive(Deserialize)]
pub struct RefreshBody {
    refresh_token: String,
}

/// The launch's instance id if it has the shape of one, or a 400 `bad_launch`.
fn instance_id(launch: &Launch) -> Result<&str, Box<Response>> {
    let id = launch.instance_id.as_str();
    let ok = !id.is_empty()
        && id.len() <= MAX_INSTANCE_ID
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c));
    if ok {
        Ok(id)
    } else {
        Err(Box::new(json_error(
            StatusCode::BAD_REQUEST,
            "bad_launch",
            "This Activity was launched without a valid instance id; launch it again from the voice channel.",
        )))
    }
}

/// Where the Activity instance runs, as Discord says, provided `user_id` is in it; else the
/// refusal to send.
async fn verified_place(
    state: &AppState,
    instance_id: &str,
    user_id: u64,
) -> Result<ActivityPlace, Box<Response>> {
    let Some(api) = &state.bot_api else {
        return Err(Box::new(json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "activity_unverifiable",
            "This Marquee cannot check where the Activity was launched: it needs the bot's token (DISCORD_TOKEN).",
        )));
    };
    match api.instance_with(instance_id, user_id).await {
        Ok(Some(instance)) => Ok(ActivityPlace {
            instance_id: instance_id.to_owned(),
            channel_id: instance.channel_id,
            guild_id: instance.guild_id,
        }),
        Ok(None) => {
            tracing::info!(
                instance_id,
                user_id,
                "refused an Activity request from someone Discord does not list in the instance"
            );
            Err(Box::new(json_error(
                StatusCode::FORBIDDEN,
                "not_in_activity",
                "Discord does not list you in this Activity. Join the voice channel and open the Activity there.",
            )))
        }
        Err(e) => {
            tracing::warn!(instance_id, error = %e, "could not check an Activity instance with Discord");
            Err(Box::new(json_error(
                StatusCode::BAD_GATEWAY,
                "discord_unavailable",
                "Discord could not confirm where this Activity runs; try again in a moment.",
            )))
        }
    }
}

fn tokens_json(state: &AppState, issued: &Issued) -> Value {
    json!({
        "access_token": issued.access,
        "refresh_token": issued.refresh,
        "expires_in": state.auth.keys.ttl.as_secs(),
    })
}

/// The channel's session as the page needs it to render at once (the whole snapshot).
fn session_json(linked: &Option<Linked>) -> Value {
    match linked {
        Some(l) => serde_json::to_value(&l.session).unwrap_or(Value::Null),
        None => Value::Null,
    }
}

fn bot_failure(e: bot::BotError) -> Response {
    if e.is_internal() {
        let reference = app::ssr::errors::log_internal("Activity session binding", &e);
        return json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &format!("Marquee could not start the session; try again (reference {reference})."),
        );
    }
    let status = match e {
        bot::BotError::PlexUnavailable(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    json_error(status, "refused", &e.to_string())
}

fn sign_in_off() -> Response {
    json_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "sign_in_off",
        "Discord sign-in is not set up on this Marquee server (MARQUEE_DISCORD_CLIENT_ID and MARQUEE_DISCORD_CLIENT_SECRET).",
    )
}

/// `POST /api/activity/sign-in` (see the module docs).
pub async fn sign_in(State(state): State<AppState>, Json(body): Json<SignInBody>) -> Response {
    let auth = &state.auth;
    let Some(discord) = &auth.discord else {
        return sign_in_off();
    };
    let instance_id = match instance_id(&body.launch) {
        Ok(id) => id,
        Err(refusal) => return *refusal,
    };
    if body.code.is_empty() || body.code.len() > 200 {
        return json_error(
            StatusCode::BAD_REQUEST,
            "invalid_code",
            "Discord gave the Activity no usable sign-in code; close it and launch it again.",
        );
    }
    let exchanged = match discord.exchange(&body.code, None).await {
        Ok(e) => e,
        Err(e) => {
            tracing::info!(error = %e, "an Activity sign-in failed");
            let (status, code) = match e {
                super::discord::OAuthError::InvalidCode => {
                    (StatusCode::BAD_REQUEST, "invalid_code")
                }
                _ => (StatusCode::BAD_GATEWAY, "discord_unavailable"),
            };
            return json_error(status, code, &e.public_message());
        }
    };
    let user = &exchanged.user;
    let Ok(user_id) = user.id.parse::<u64>() else {
        return json_error(
            StatusCode::BAD_GATEWAY,
            "discord_unavailable",
            "Discord answered with a user Marquee cannot read; try again.",
        );
    };
    let place = match verified_place(&state, instance_id, user_id).await {
        Ok(p) => p,
        Err(refusal) => return *refusal,
    };
    let issued = auth.sign_in_discord_user(user).await;
    let issued = match issued {
        Ok(i) => i,
        Err(e) => {
            let reference = app::ssr::errors::log_internal("storing an Activity sign-in", &e);
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &format!("Marquee could not save your sign-in; try again (reference {reference})."),
            );
        }
    };
    let linked = match state.discord.activity_session(&place).await {
        Ok(l) => l,
        Err(e) => return bot_failure(e),
    };
    // Enrol the user now, so the page renders them among the members at once.
    let linked = match linked {
        Some(l) => match state
            .discord
            .admit(&l, (user_id, user.display_name()), false)
            .await
        {
            Ok(session) => Some(Linked { session, ..l }),
            Err(e) => return bot_failure(e),
        },
        None => None,
    };
    tracing::info!(discord_id = %user.id, channel = place.channel_id, session = ?linked.as_ref().map(|l| &l.session.id), "signed in from the Discord Activity");
    let mut reply = tokens_json(&state, &issued);
    reply["discord_access_token"] = json!(exchanged.access_token.expose_secret());
    reply["user"] = json!({"discord_id": user.id, "name": user.display_name()});
    reply["session"] = session_json(&linked);
    Json(reply).into_response()
}

/// `POST /api/activity/start` with `Authorization: Bearer <access token>` (see the module docs).
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<StartBody>,
) -> Response {
    let claims = match state.auth.current_live(&headers).await {
        Ok(c) => c,
        Err(e @ AuthError::Token(_)) => {
            return json_error(StatusCode::UNAUTHORIZED, e.code(), "sign in again");
        }
        Err(e) => return json_error(StatusCode::UNAUTHORIZED, e.code(), "sign in with Discord"),
    };
    let instance_id = match instance_id(&body.launch) {
        Ok(id) => id,
        Err(refusal) => return *refusal,
    };
    let Ok(user_id) = claims.did.parse::<u64>() else {
        return json_error(StatusCode::UNAUTHORIZED, "invalid_token", "sign in again");
    };
    let place = match verified_place(&state, instance_id, user_id).await {
        Ok(p) => p,
        Err(refusal) => return *refusal,
    };
    match state
        .discord
        .start_from_activity(&place, (user_id, &claims.name), &body.rating_key)
        .await
    {
        Ok(linked) => Json(json!({"session": session_json(&Some(linked))})).into_response(),
        Err(e) => bot_failure(e),
    }
}

/// `POST /api/activity/refresh`: a new token pair for a refresh token (rotation and reuse
/// detection as for the cookie flow).
pub async fn refresh(State(state): State<AppState>, Json(body): Json<RefreshBody>) -> Response {
    match state.auth.refresh(&body.refresh_token).await {
        Ok(Ok(issued)) => Json(tokens_json(&state, &issued)).into_response(),
        Ok(Err(outcome)) => json_error(
            StatusCode::UNAUTHORIZED,
            super::routes::rotation_code(&outcome),
            "your sign-in has ended; launch the Activity again",
        ),
        Err(e) => {
            let reference = app::ssr::errors::log_internal("Activity refresh", &e);
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &format!("try again (reference {reference})"),
            )
        }
    }
}
