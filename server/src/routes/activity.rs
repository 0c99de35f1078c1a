//! The Discord Activity's document (`/activity`) and its entry from Discord's launch.
//!
//! Discord loads an Activity at the root of its URL mapping with the launch parameters in the
//! query (`/?frame_id=…&instance_id=…&platform=…&channel_id=…`). With the mapping's root pointing
//! at Marquee, such a request is redirected (relatively, so it stays under Discord's proxy
//! prefix) to `activity` with the same query.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use crate::state::AppState;

/// Whether a query string carries Discord's launch parameters.
fn is_launch(query: &str) -> bool {
    let mut frame = false;
    let mut instance = false;
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "frame_id" => frame = !value.is_empty(),
            "instance_id" => instance = !value.is_empty(),
            _ => {}
        }
    }
    frame && instance
}

/// Sends Discord's launch of the mapping root on to the Activity page.
pub async fn launch_redirect(request: Request, next: Next) -> Response {
    if request.uri().path() == "/"
        && let Some(query) = request.uri().query()
        && is_launch(query)
    {
        let location = format!("activity?{query}");
        return (StatusCode::FOUND, [(header::LOCATION, location)]).into_response();
    }
    next.run(request).await
}

/// `GET /activity`: the Activity's document, rendered with Leptos like every page.
pub fn page(state: &AppState) -> MethodRouter<AppState> {
    let options = state.leptos.clone();
    let settings = app::activity::ActivitySettings {
        client_id: state.auth.discord.as_ref().map(|d| d.client_id.clone()),
    };
    // The document renders only the "connecting" stage: everything after the SDK handshake
    // happens in the browser, through server functions and the WebSocket.
    let render = leptos_axum::render_app_to_stream(move || {
        app::activity::activity_shell(options.clone(), settings.clone())
    });
    get(move |request: Request<Body>| render(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_discord_launch_is_redirected() {
        assert!(is_launch(
            "frame_id=f1&instance_id=i-1&platform=desktop&channel_id=7"
        ));
        assert!(!is_launch("frame_id=f1"));
        assert!(!is_launch("instance_id=i&frame_id="));
        assert!(!is_launch("q=frame_id%3Dx%26instance_id%3Dy"));
    }
}
