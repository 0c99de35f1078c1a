//! Bounds on what one request may cost the server, whoever sends it: the body it may carry.
//! Marquee's requests are small (a form of a few fields, a JSON command), so a body over
//! [`MAX_BODY_BYTES`] (Plex's webhook, which may carry a poster:
//! [`MAX_WEBHOOK_BYTES`](crate::routes::plex_webhook::MAX_WEBHOOK_BYTES)) is refused with a JSON `413` before any handler reads it: a body announced
//! as too large at once, and a streamed one (no `Content-Length`) when it passes the bound.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::BodyExt;

use crate::auth::routes::json_error;

/// The largest request body Marquee reads.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// How much of a streamed body past the bound is read and dropped before the `413`, so a
/// client still sending gets the answer instead of a broken connection; beyond this, or after
/// [`DRAIN_TIME`], the connection is simply cut.
const DRAIN_BYTES: usize = 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Refuses a request whose body is over [`MAX_BODY_BYTES`]: by its `Content-Length`, or, for a
/// streamed body, by reading it up to the bound (it is small, and the handler would read it
/// whole anyway) and dropping the rest (up to [`DRAIN_BYTES`]).
pub async fn bounded_body(request: Request, next: Next) -> Response {
    // Plex's webhooks may carry a poster; every other request is a few fields.
    let limit = if request.uri().path() == crate::routes::plex_webhook::WEBHOOK_PATH {
        crate::routes::plex_webhook::MAX_WEBHOOK_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let too_large = || {
        json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            &format!("requests to Marquee carry at most {} KiB", limit / 1024),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit as u64 => {
            // The body stays unread, so the connection cannot carry another request; saying
            // so stops a client from sending its next one down a socket about to close.
            let mut refused = too_large();
            refused.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            refused
        }
        Some(_) => next.run(request).await,
        None if request.headers().contains_key(header::TRANSFER_ENCODING) => {
            let (parts, mut body) = request.into_parts();
            let mut kept = Vec::new();
            let mut seen = 0usize;
            let read = tokio::time::timeout(DRAIN_TIME, async {
                while let Some(frame) = body.frame().await {
                    let Ok(data) = frame.map_err(drop)?.into_data() else {
                        continue;
                    };
                    seen += data.len();
                    if seen <= limit {
                        kept.extend_from_slice(&data);
                    } else if seen > DRAIN_BYTES {
                        return Err(());
                    }
                }
                Ok(())
            })
            .await;
            match read {
                Ok(Ok(())) if seen <= limit => {
                    next.run(Request::from_parts(parts, Body::from(kept))).await
                }
                _ => too_large(),
            }
        }
        None => next.run(request).await,
    }
}
