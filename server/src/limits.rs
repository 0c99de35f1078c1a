//! Bounds on what one request may cost the server, whoever sends it: the body it may carry.
//! Marquee's requests are small (a form of a few fields, a JSON command), so a body over
//! [`MAX_BODY_BYTES`] is refused with a JSON `413` before any handler reads it: a body announced
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

/// Refuses a request whose body is over [`MAX_BODY_BYTES`]: by its `Content-Length`, or, for a
/// streamed body, by reading it up to the bound (it is small, and the handler would read it
/// whole anyway).
pub async fn bounded_body(request: Request, next: Next) -> Response {
    let too_large = || {
        json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            &format!(
                "requests to Marquee carry at most {} KiB",
                MAX_BODY_BYTES / 1024
            ),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > MAX_BODY_BYTES as u64 => too_large(),
        Some(_) => next.run(request).await,
        None if request.headers().contains_key(header::TRANSFER_ENCODING) => {
            let (parts, body) = request.into_parts();
            match http_body_util::Limited::new(body, MAX_BODY_BYTES)
                .collect()
                .await
            {
                Ok(collected) => {
                    let request = Request::from_parts(parts, Body::from(collected.to_bytes()));
                    next.run(request).await
                }
                Err(_) => too_large(),
            }
        }
        None => next.run(request).await,
    }
}
