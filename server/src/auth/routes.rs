//! `/auth/login`, `/auth/callback`, `/auth/refresh`, `/auth/logout` and `/api/me`, plus the rate
//! limit and same-origin check that guard them.

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use cookie::SameSite;
use serde::Deserialize;
use serde_json::json;

use super::{Auth, AuthError, REFRESH_COOKIE, STATE_COOKIE, build_cookie, cookie_value};
use crate::state::AppState;

pub(crate) fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": code, "message": message}))).into_response()
}

fn with_cookies(mut response: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// A small page for sign-in problems: people arrive here from Discord's consent screen, not from
/// a script, so they get words and a way back rather than JSON.
fn error_page(status: StatusCode, message: &str) -> Response {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed · Marquee</title>\
         <link rel=\"stylesheet\" href=\"{css}\"></head><body><main class=\"page error-page\">\
         <h1>Sign-in did not work</h1><p class=\"auth-error\">{escaped}</p>\
         <p><a href=\"/auth/login\">Try again</a> · <a href=\"/\">Back to the library</a></p></main></body></html>",
        css = app::assets::pkg_path("marquee.css"),
    );
    (status, Html(body)).into_response()
}

/// An error message as a sentence: capital first letter, full stop.
pub(crate) fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}.",
            first.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

/// Where to go after signing in: a path on this site, or `/`. The path is resolved against
/// the public origin the way a browser would resolve it, so nothing that a browser reads as
/// another site (`//evil.example`, `/\tevil`, `/\\evil`) gets through; control characters,
/// whitespace and `;` (which would end the cookie value it travels in) are refused outright.
pub fn safe_return(public_url: &str, to: Option<&str>) -> String {
    let home = "/".to_owned();
    let Some(to) = to else { return home };
    let suspicious = to.len() > 1024
        || !to.starts_with('/')
        || to
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, ';' | '\\'));
    let Ok(base) = url::Url::parse(public_url) else {
        return home;
    };
    if suspicious {
        return home;
    }
    match base.join(to) {
        Ok(u) if u.origin() == base.origin() && !u.path().starts_with("//") => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        _ => home,
    }
}

/// The OAuth2 state cookie's value: the nonce and where to return, percent-encoded so that no
/// character of the path can end the cookie or add an attribute to it.
fn state_value(nonce: &str, return_to: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    format!("{nonce}|{encoded}")
}

/// The nonce and return path from the state cookie.
fn parse_state(value: &str) -> Option<(String, String)> {
    let (nonce, encoded) = value.split_once('|')?;
    let decoded: String = url::form_urlencoded::parse(format!("r={encoded}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())?;
    Some((nonce.to_owned(), decoded))
}

fn auth_of(state: &AppState) -> &Auth {
    &state.auth
}

#[derive(Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// `GET /auth/login`: off to Discord's consent screen.
pub async fn login(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let auth = auth_of(&state);
    let Some(discord) = &auth.discord else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Signing in with Discord is not set up on this server (MARQUEE_DISCORD_CLIENT_ID and MARQUEE_DISCORD_CLIENT_SECRET).",
        );
    };
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let value = state_value(
        &nonce,
        &safe_return(&auth.public_url, q.return_to.as_deref()),
    );
    let cookie = build_cookie(
        STATE_COOKIE,
        &value,
        SameSite::Lax,
        Some(std::time::Duration::from_secs(600)),
    );
    let target = discord.authorize_url(&auth.redirect_uri(), &nonce);
    with_cookies(Redirect::to(&target).into_response(), &[cookie])
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: Discord sends the browser back here with a code.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let auth = auth_of(&state);
    let Some(discord) = &auth.discord else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Signing in with Discord is not set up on this server.",
        );
    };
    let clear_state = build_cookie(
        STATE_COOKIE,
        "",
        SameSite::Lax,
        Some(std::time::Duration::ZERO),
    );
    let expected = cookie_value(&headers, STATE_COOKIE);
    let (nonce, return_to) = match expected.as_deref().and_then(parse_state) {
        Some((n, r)) => (n, safe_return(&auth.public_url, Some(&r))),
        None => {
            return with_cookies(
                error_page(
                    StatusCode::BAD_REQUEST,
                    "This sign-in link has expired or was opened in another browser. Start again from Marquee.",
                ),
                &[clear_state],
            );
        }
    };
    if q.state.as_deref() != Some(nonce.as_str()) {
        return with_cookies(
            error_page(
                StatusCode::BAD_REQUEST,
                "This sign-in does not match the one you started (state mismatch). Start again from Marquee.",
            ),
            &[clear_state],
        );
    }
    if let Some(error) = &q.error {
        let message = if error == "access_denied" {
            "You cancelled the sign-in on Discord.".to_owned()
        } else {
            format!("Discord did not sign you in ({error}).")
        };
        return with_cookies(
            error_page(StatusCode::BAD_REQUEST, &message),
            &[clear_state],
        );
    }
    let Some(code) = q
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 200)
    else {
        return with_cookies(
            error_page(StatusCode::BAD_REQUEST, "Discord sent no sign-in code."),
            &[clear_state],
        );
    };
    let user = match discord
        .user_for_code(code, Some(&auth.redirect_uri()))
        .await
    {
        Ok(user) => user,
        Err(e) => {
            tracing::info!(error = %e, "a Discord sign-in failed");
            let status = match e {
                super::discord::OAuthError::InvalidCode => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            };
            return with_cookies(error_page(status, &e.public_message()), &[clear_state]);
        }
    };
    let issued = auth.sign_in_discord_user(&user).await;
    match issued {
        Ok(issued) => {
            tracing::info!(discord_id = %user.id, "signed in with Discord");
            let mut cookies = auth.cookies(&issued);
            cookies.push(clear_state);
            with_cookies(Redirect::to(&return_to).into_response(), &cookies)
        }
        Err(e) => {
            let reference = app::ssr::errors::log_internal("storing a sign-in", &e);
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("Marquee could not save your sign-in; try again (reference {reference})."),
            )
        }
    }
}

/// `POST /auth/refresh`: a new access token (and refresh token) for the refresh cookie.
pub async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let auth = auth_of(&state);
    let Some(token) = cookie_value(&headers, REFRESH_COOKIE) else {
        return json_error(StatusCode::UNAUTHORIZED, "not_signed_in", "sign in again");
    };
    match auth.refresh(&token).await {
        Ok(Ok(issued)) => {
            let claims = auth.keys.verify(&issued.access).ok();
            let body = Json(
                json!({"ok": true, "user": claims.map(|c| json!({"id": c.sub.parse::<i64>().ok(), "discord_id": c.did, "name": c.name}))}),
            );
            with_cookies(body.into_response(), &auth.cookies(&issued))
        }
        Ok(Err(outcome)) => {
            let code = rotation_code(&outcome);
            with_cookies(
                json_error(
                    StatusCode::UNAUTHORIZED,
                    code,
                    "your sign-in has ended; sign in again",
                ),
                &Auth::cleared_cookies(),
            )
        }
        Err(e) => {
            let reference = app::ssr::errors::log_internal("refreshing a sign-in", &e);
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                &format!("try again (reference {reference})"),
            )
        }
    }
}

/// The error code for a refused refresh.
pub(crate) fn rotation_code(outcome: &marquee_store::Rotation) -> &'static str {
    match outcome {
        marquee_store::Rotation::Reused { .. } => "refresh_reused",
        marquee_store::Rotation::Expired => "refresh_expired",
        _ => "invalid_refresh",
    }
}

/// `POST /auth/logout`: ends this sign-in everywhere its tokens went. A form post (the header's
/// "Sign out" button) goes back to the home page; a script gets JSON.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_value(&headers, REFRESH_COOKIE)
        && let Err(e) = auth_of(&state).sign_out(&token).await
    {
        let reference = app::ssr::errors::log_internal("signing out", &e);
        return json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            &format!("try again (reference {reference})"),
        );
    }
    let from_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let response = if from_form {
        Redirect::to("/").into_response()
    } else {
        Json(json!({"ok": true})).into_response()
    };
    with_cookies(response, &Auth::cleared_cookies())
}

/// Puts the signed-in account (if the access cookie is valid) into the request, for pages and
/// server functions.
pub async fn account(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if let Ok(claims) = state.auth.current_live(request.headers()).await {
        request.extensions_mut().insert(SignIn(claims.sid));
        request.extensions_mut().insert(app::model::Account {
            name: claims.name,
            discord_id: claims.did,
            allowed: claims.allowed,
        });
    }
    next.run(request).await
}

/// The sign-in (refresh family) of the request's access token, beside its `Account`: a
/// WebSocket keeps it to notice a sign-out.
#[derive(Clone, Debug)]
pub struct SignIn(pub String);

/// `GET /api/me`: who is signed in.
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match auth_of(&state).current_live(&headers).await {
        Ok(c) => {
            Json(json!({"id": c.sub.parse::<i64>().ok(), "discord_id": c.did, "name": c.name}))
                .into_response()
        }
        Err(e @ AuthError::Token(_)) => {
            json_error(StatusCode::UNAUTHORIZED, e.code(), &e.to_string())
        }
        Err(e) => json_error(StatusCode::UNAUTHORIZED, e.code(), "sign in with Discord"),
    }
}

/// Rate limit for the sign-in routes, per client address.
pub async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match limited(&state.auth.limits, &request, "sign-in requests") {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

/// Rate limits per client address: server functions and the JSON API (`/api/…`, the admin
/// routes and `/metrics` included: a wrong admin token costs the guesser as much as any
/// request), and the server-rendered pages (each may cost Plex calls a stranger chooses, such
/// as a search).
pub async fn api_rate_limit(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    // The admin door (which holds `/metrics` too) shares the API's budget: the admin token
    // must not be guessable at network speed.
    let admin = crate::access::door_of(path) == crate::access::Door::Admin;
    let limiter = if admin || path.starts_with("/api/") {
        Some((&state.auth.api_limits, "requests"))
    } else if crate::access::is_page(path) {
        Some((&*state.page_limits, "page loads"))
    } else {
        None
    };
    if let Some((limiter, what)) = limiter
        && let Some(refusal) = limited(limiter, &request, what)
    {
        return refusal;
    }
    next.run(request).await
}

/// `429` with `Retry-After` if the request's address has used up `limiter`.
fn limited(limiter: &super::limits::Limiter, request: &Request, what: &str) -> Option<Response> {
    let client = request
        .extensions()
        .get::<crate::client_addr::ClientAddr>()?;
    let wait = limiter.check(client.bucket).err()?;
    let mut response = json_error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        &format!("too many {what}; try again in {wait} s"),
    );
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        let base = "https://marquee.example.com";
        for (asked, got) in [
            (Some("/session/abc"), "/session/abc"),
            (
                Some("/search?q=harbor%20lights"),
                "/search?q=harbor%20lights",
            ),
            (None, "/"),
            (Some("//evil.example"), "/"),
            (Some("/\t/evil.example"), "/"),
            (Some("/\n/evil.example"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("/.//evil.example"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/x;Domain=evil.example"), "/"),
            (Some("/a b"), "/"),
            (Some("javascript:alert(1)"), "/"),
        ] {
            assert_eq!(safe_return(base, asked), got, "{asked:?}");
        }
    }

    #[test]
    fn the_state_cookie_value_cannot_carry_attributes() {
        let value = state_value("n1", "/search?q=a&b=c");
        assert!(!value.contains(';') && !value.contains(' ') && !value.contains(','));
        assert_eq!(
            parse_state(&value),
            Some(("n1".to_owned(), "/search?q=a&b=c".to_owned()))
        );
    }
}
