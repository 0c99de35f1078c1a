//! Security headers on every response: a Content-Security-Policy (scripts only from Marquee,
//! inline ones only with the page's nonce; styles only from its stylesheet, never inline; framing
//! only by Discord, and only for the Activity),
//! `X-Content-Type-Options`, `Referrer-Policy`, and HSTS when Marquee sits behind HTTPS.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// The path prefix of the Discord Activity, the one part of Marquee Discord may frame.
pub const ACTIVITY_PREFIX: &str = "/activity";

/// Who may embed the Activity: Discord's clients, the Activity's own origin (inside Discord that
/// is the proxy's `<app id>.discordsays.com`; a test's fake Discord client serves its parent page
/// from the same origin as its proxy, as Discord's SDK expects) and this application's proxy
/// origin. Not `*.discordsays.com`: every Discord application's Activity lives under it.
pub fn discord_frame_ancestors(application_id: Option<&str>) -> String {
    let base = "'self' https://discord.com https://*.discord.com";
    match application_id.filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())) {
        Some(id) => format!("{base} https://{id}.discordsays.com"),
        None => base.to_owned(),
    }
}

/// The Content-Security-Policy for `path`; `nonce` is the page's inline-script nonce, if any,
/// and `application_id` the Discord application whose Activity this is.
pub fn content_security_policy(
    path: &str,
    nonce: Option<&str>,
    application_id: Option<&str>,
) -> String {
    let scripts = match nonce {
        Some(n) => format!("'self' 'wasm-unsafe-eval' 'nonce-{n}'"),
        None => "'self' 'wasm-unsafe-eval'".to_owned(),
    };
    let frame_ancestors = if is_activity(path) {
        discord_frame_ancestors(application_id)
    } else {
        "'none'".to_owned()
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; \
         img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self' https://discord.com; frame-ancestors {frame_ancestors}"
    )
}

fn is_activity(path: &str) -> bool {
    path == ACTIVITY_PREFIX || path.starts_with(&format!("{ACTIVITY_PREFIX}/"))
}

/// A fresh script nonce: 128 random bits, as CSP asks of a nonce.
fn new_nonce() -> app::ScriptNonce {
    app::ScriptNonce(uuid::Uuid::new_v4().simple().to_string())
}

/// Adds the headers (see the module docs). The script nonce is chosen here, before the page
/// renders, and given to it as a request extension ([`app::ScriptNonce`]).
pub async fn headers(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let nonce = new_nonce();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.remove(app::SCRIPT_NONCE_HEADER);
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let nonce = is_html.then_some(nonce.0.as_str());
    let application_id = state.auth.discord.as_ref().map(|d| d.client_id.as_str());
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&path, nonce, application_id)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if !is_activity(&path) {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if state.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_activity_may_be_framed_and_only_by_discord() {
        let page = content_security_policy("/library/1", Some("abc"), Some("42"));
        assert!(page.contains("frame-ancestors 'none'"));
        assert!(page.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-abc'"));
        assert!(
            page.contains("style-src 'self';") && !page.contains("unsafe-inline"),
            "no inline styles: {page}"
        );
        let activity = content_security_policy("/activity", None, Some("42"));
        assert!(activity.ends_with(
            "frame-ancestors 'self' https://discord.com https://*.discord.com https://42.discordsays.com"
        ));
        assert!(
            !activity.contains("*.discordsays.com"),
            "not every application's Activity"
        );
        assert!(
            content_security_policy("/activityx", None, Some("42"))
                .contains("frame-ancestors 'none'")
        );
    }
}
