//! Discord's OAuth2 side, faked: the authorize page (which signs in whoever the test says is
//! signed in to Discord, and sends the browser back with a code), the token endpoint (code →
//! access token, checking the client secret), and `GET /users/@me` for that token.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::{State, lock, payloads};

#[derive(Deserialize)]
pub(crate) struct Authorize {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    #[serde(default)]
    state: Option<String>,
}

/// `GET /oauth2/authorize`: the user approves at once (as after the first time) and goes back
/// to the app with a fresh code, or with `error=access_denied` when the test made them refuse.
pub(crate) async fn authorize(
    AxState(state): AxState<Arc<State>>,
    Query(q): Query<Authorize>,
) -> Response {
    if q.client_id != state.opts.application_id.to_string() || q.response_type != "code" {
        return (StatusCode::BAD_REQUEST, "Invalid OAuth2 request").into_response();
    }
    let mut target = match url::Url::parse(&q.redirect_uri) {
        Ok(u) => u,
        Err(_) => return (StatusCode::BAD_REQUEST, "Invalid redirect_uri").into_response(),
    };
    let signed_in = lock(&state.oauth_user).clone();
    {
        let mut pairs = target.query_pairs_mut();
        match signed_in {
            Some(user) => {
                let code = format!("code-{}", state.snowflake());
                lock(&state.codes).insert(code.clone(), (user, q.redirect_uri.clone()));
                pairs.append_pair("code", &code);
            }
            None => {
                pairs.append_pair("error", "access_denied");
                pairs.append_pair(
                    "error_description",
                    "The resource owner or authorization server denied the request",
                );
            }
        }
        if let Some(s) = &q.state {
            pairs.append_pair("state", s);
        }
    }
    Redirect::to(target.as_str()).into_response()
}

#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    grant_type: String,
    code: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /api/v10/oauth2/token`: exchanges a code (once) for an access token.
pub(crate) async fn token(
    AxState(state): AxState<Arc<State>>,
    Form(req): Form<TokenRequest>,
) -> Response {
    if req.client_id.as_deref() != Some(&state.opts.application_id.to_string())
        || req.client_secret.as_deref() != Some(state.opts.client_secret.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    if req.grant_type != "authorization_code" {
        return oauth_error("unsupported_grant_type", "Unsupported grant type");
    }
    let Some((user, redirect)) = req.code.as_ref().and_then(|c| lock(&state.codes).remove(c))
    else {
        return oauth_error("invalid_grant", "Invalid \"code\" in request.");
    };
    // The Embedded App SDK's codes come without a redirect URI; web codes must match theirs.
    if let Some(uri) = &req.redirect_uri
        && !redirect.is_empty()
        && *uri != redirect
    {
        return oauth_error("invalid_grant", "Invalid \"redirect_uri\" in request.");
    }
    let access = format!("access-{}", state.snowflake());
    lock(&state.access_tokens).insert(access.clone(), user);
    Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 604800,
        "refresh_token": format!("discord-refresh-{}", state.snowflake()),
        "scope": "identify",
    }))
    .into_response()
}

/// `GET /api/v10/users/@me` with a user's bearer token.
pub(crate) async fn me(AxState(state): AxState<Arc<State>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(user) = bearer.and_then(|t| lock(&state.access_tokens).get(t).cloned()) {
        let mut u = payloads::user(user.id, &user.username, false);
        u["avatar"] = json!(format!("avatarhash{}", user.id % 1000));
        return Json(u).into_response();
    }
    if bearer.is_none() {
        // A bot token asking for itself.
        return Json(state.bot_user()).into_response();
    }
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "401: Unauthorized", "code": 0})),
    )
        .into_response()
}
