//! Who may use what. Every HTTP request is sorted into one [`Door`] by its path ([`door_of`]),
//! and the door's rule ([`admit`]) is the whole of who gets through; [`guard`] is the one
//! middleware that applies it, before any handler runs. `docs/security.md` is this module as a
//! table. Two doors lead further: a WebSocket's messages are ruled at its hello (who may join)
//! and by the session rules (who may drive), and the Activity's JSON routes check Discord's
//! Activity instance (`auth::activity`).
//!
//! A new route belongs to a door by its path; a path no rule names is [`Door::Library`], closed
//! to strangers, so forgetting a route fails safe.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use marquee_store::secret::UrlRefusal;

use crate::auth::routes::json_error;
use crate::state::AppState;
use app::model::Account;
use app::ssr::refusal::{RefusalPage, Remedy};
use app::ssr::urls::{transcode_item, unix_now};

/// The kinds of route, by who may use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// Anyone: health, static files, sign-in, the Activity's document and JSON routes (which
    /// check Discord themselves), the WebSocket upgrade (ruled at hello).
    Open,
    /// The library: its pages and server functions. With sign-in set up, people allowed on
    /// this Marquee; without it, everyone.
    Library,
    /// Watch sessions: the session page, its server functions, `/api/sessions`. The library's
    /// people, and guests when guests are admitted.
    Sessions,
    /// `/media`, `/img`, `/subs` and Plex's webhook: a URL Marquee signed, until it expires (the
    /// webhook's never does).
    SignedUrl,
    /// `/hls`: a transcode token Marquee issued for that item, until it expires.
    Transcode,
    /// `/metrics` and `/api/admin/…`: the admin token.
    Admin,
    /// `/api/plex-link/…`, a viewer's own Plex account: a signed-in person this Marquee admits,
    /// even where the library is open to everyone (a link belongs to a Discord account).
    Account,
}

/// The door of a request path.
pub fn door_of(path: &str) -> Door {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/media")
        || under("/img")
        || under("/previews")
        || under("/subs")
        || path == crate::routes::plex_webhook::WEBHOOK_PATH
    {
        return Door::SignedUrl;
    }
    if under("/hls") {
        return Door::Transcode;
    }
    if under("/api/admin") || path == "/metrics" {
        return Door::Admin;
    }
    if under("/api/plex-link") {
        return Door::Account;
    }
    if under("/session") || under("/api/session") || under("/api/sessions") {
        return Door::Sessions;
    }
    let open = path == "/healthz"
        || path == "/readyz"
        || path == "/favicon.svg"
        || path == "/favicon.ico"
        || under("/pkg")
        || under("/auth")
        || path == "/api/me"
        || path == "/api/account"
        || under("/api/activity")
        || under("/activity")
        || under("/ws/session");
    if open {
        return Door::Open;
    }
    Door::Library
}

/// Whether `path` is a server-rendered page (the library's and the sessions' documents, not
/// their data or media), for the page rate limit.
pub fn is_page(path: &str) -> bool {
    matches!(door_of(path), Door::Library | Door::Sessions)
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
}

/// Who is asking, as far as the doors care.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visitor {
    /// No valid sign-in.
    Stranger,
    /// Signed in with Discord; `allowed` says whether this Marquee admits them.
    Person { name: String, allowed: bool },
    /// A script with the admin token.
    Admin,
}

impl Visitor {
    /// The visitor a sign-in makes (or a stranger, without one); the admin token is checked
    /// apart, by [`visitor`].
    pub fn of(account: Option<&Account>) -> Visitor {
        match account {
            Some(a) => Visitor::Person {
                name: a.name.clone(),
                allowed: a.allowed,
            },
            None => Visitor::Stranger,
        }
    }
}

/// What the installation admits, beside the doors.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Discord sign-in is set up (without it, the library is open to everyone).
    pub sign_in: bool,
    /// People who are not signed in (or not allowed) may join sessions as guests.
    pub guests: bool,
}

/// Why a request was turned away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    SignInRequired,
    NotAllowed { name: String },
    AdminOnly,
    Link(UrlRefusal),
}

/// What a door let through. The transcode door says whom the token it checked names, so the
/// HLS handlers count the transcode against them without checking the token a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    /// The visitor, by who they are (or a signed link).
    Visitor,
    /// A transcode request whose token names this owner (a request extension from here on).
    Transcode(marquee_store::secret::TranscodeOwner),
}

/// What a signed link's signature covers: its whole path, except that a seek-preview link
/// (`/previews/{item}/{version}/{part}/{ms}`) is signed for its Part and the time, its last
/// segment, is the player's to choose.
fn signed_path(path: &str) -> &str {
    match path.strip_prefix("/previews/") {
        Some(rest) if rest.matches('/').count() == 3 => {
            path.rsplit_once('/').map_or(path, |(signed, _)| signed)
        }
        _ => path,
    }
}

/// The rule of `door` for `visitor`. `path` and `query` (the raw query string) are the
/// request's, for the doors that check a signature.
pub fn admit(
    door: Door,
    visitor: &Visitor,
    policy: Policy,
    signer: &marquee_store::secret::UrlSigner,
    path: &str,
    query: Option<&str>,
) -> Result<Admitted, Refusal> {
    match door {
        Door::SignedUrl => signer
            .verify(signed_path(path), query, unix_now())
            .map(|()| Admitted::Visitor)
            .map_err(Refusal::Link),
        Door::Transcode => {
            let (item, token) =
                transcode_of(path, query).ok_or(Refusal::Link(UrlRefusal::Unsigned))?;
            signer
                .check_transcode_token(&item, token, unix_now())
                .map(Admitted::Transcode)
                .map_err(Refusal::Link)
        }
        _ => admit_person(door, visitor, policy).map(|()| Admitted::Visitor),
    }
}

/// The doors that go by who the visitor is (all but the signed links).
fn admit_person(door: Door, visitor: &Visitor, policy: Policy) -> Result<(), Refusal> {
    let library = || match visitor {
        _ if !policy.sign_in => Ok(()),
        Visitor::Admin | Visitor::Person { allowed: true, .. } => Ok(()),
        Visitor::Person {
            name,
            allowed: false,
        } => Err(Refusal::NotAllowed { name: name.clone() }),
        Visitor::Stranger => Err(Refusal::SignInRequired),
    };
    match door {
        Door::Open => Ok(()),
        Door::Library => library(),
        Door::Sessions => {
            library().or_else(|refusal| if policy.guests { Ok(()) } else { Err(refusal) })
        }
        Door::Admin => match visitor {
            Visitor::Admin => Ok(()),
            _ => Err(Refusal::AdminOnly),
        },
        Door::Account => match visitor {
            Visitor::Person { allowed: true, .. } => Ok(()),
            Visitor::Person {
                name,
                allowed: false,
            } => Err(Refusal::NotAllowed { name: name.clone() }),
            Visitor::Stranger | Visitor::Admin => Err(Refusal::SignInRequired),
        },
        Door::SignedUrl | Door::Transcode => Err(Refusal::Link(UrlRefusal::Unsigned)),
    }
}

/// The [`Door::Sessions`] rule alone, for the WebSocket's hello.
pub fn admit_session(visitor: &Visitor, policy: Policy) -> Result<(), Refusal> {
    admit_person(Door::Sessions, visitor, policy)
}

/// The item (`rating key/version`) and token of an `/hls` request:
/// `/hls/{key}/{version}/start.m3u8?session={token}`, `/hls/{key}/{version}/session/{token}/…`
/// or `/hls/{key}/{version}/{stop|timeline}/{token}/{quality}`.
fn transcode_of<'a>(path: &'a str, query: Option<&'a str>) -> Option<(String, &'a str)> {
    let mut parts = path.strip_prefix("/hls/")?.splitn(4, '/');
    let (key, version, what) = (parts.next()?, parts.next()?, parts.next()?);
    let version: u32 = version.parse().ok()?;
    let token = match what {
        "start.m3u8" => query?
            .split('&')
            .find_map(|pair| pair.strip_prefix("session="))?,
        "session" | "stop" | "timeline" => parts.next()?.split('/').next()?,
        _ => return None,
    };
    Some((transcode_item(key, version), token))
}

/// The visitor of a request: the admin token, else the account the auth layer found.
fn visitor(state: &AppState, request: &Request) -> Visitor {
    if crate::routes::admin::authorize(state, request.headers()).is_ok() {
        return Visitor::Admin;
    }
    Visitor::of(request.extensions().get::<Account>())
}

/// Whether a request carries one of Marquee's cookies: only those can be forged from another
/// site (a browser adds cookies to a cross-site request by itself; it never adds a bearer
/// token or a token in a body).
fn carries_cookies(request: &Request) -> bool {
    use crate::auth::{ACCESS_COOKIE, REFRESH_COOKIE, STATE_COOKIE, cookie_value};
    [ACCESS_COOKIE, REFRESH_COOKIE, STATE_COOKIE]
        .iter()
        .any(|name| cookie_value(request.headers(), name).is_some())
}

/// Whether the browser says the request comes from another site: `Sec-Fetch-Site`, or an
/// `Origin` that is not this server (its `Host`, or the public URL's origin).
fn cross_site(request: &Request, public_origin: &str) -> bool {
    let headers = request.headers();
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(site, Some("cross-site" | "same-site")) {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin.split("://").nth(1);
    origin == "null" || (origin != public_origin && origin_host != host)
}

/// CSRF and cross-site WebSocket hijacking: a request that changes something (any method but
/// GET and HEAD) or opens a WebSocket, carries Marquee's cookies, and comes from another site
/// is refused. Pages of a sibling subdomain count as another site.
fn forged(request: &Request, public_origin: &str) -> bool {
    let changes = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    (changes || upgrade) && carries_cookies(request) && cross_site(request, public_origin)
}

/// The middleware: the cross-site rule and the door's rule, then the handler (see the module
/// docs).
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if forged(&request, &state.public_origin) {
        tracing::info!(
            path,
            "refused a cross-site request that carried Marquee's cookies"
        );
        return json_error(
            StatusCode::FORBIDDEN,
            "cross_site",
            "this request must come from Marquee's own pages",
        );
    }
    let door = door_of(&path);
    let policy = Policy {
        sign_in: state.auth.discord.is_some(),
        guests: state.guests,
    };
    let who = visitor(&state, &request);
    let mut request = request;
    match admit(
        door,
        &who,
        policy,
        state.services.urls.signer(),
        &path,
        request.uri().query(),
    ) {
        Ok(admitted) => {
            if let Admitted::Transcode(owner) = admitted {
                request.extensions_mut().insert(owner);
            }
            next.run(request).await
        }
        Err(refusal) => {
            tracing::debug!(path, ?door, ?refusal, "refused at the door");
            let nonce = request.extensions().get::<app::ScriptNonce>().cloned();
            refuse(&path, door, &refusal, nonce)
        }
    }
}

/// The refusal: a JSON body for the API and media, a page for a browser's page load.
fn refuse(path: &str, door: Door, refusal: &Refusal, nonce: Option<app::ScriptNonce>) -> Response {
    let (status, code, message) = match refusal {
        Refusal::SignInRequired => (
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "This Marquee admits only people signed in with Discord.".to_owned(),
        ),
        Refusal::NotAllowed { name } => (
            StatusCode::FORBIDDEN,
            "not_allowed",
            format!(
                "You are signed in as {name}, but this Marquee is only for members of its Discord servers."
            ),
        ),
        Refusal::AdminOnly => (
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "This needs the admin token (Authorization: Bearer …).".to_owned(),
        ),
        Refusal::Link(UrlRefusal::Expired) => (
            StatusCode::FORBIDDEN,
            "link_expired",
            "This link has expired; reload the page for a fresh one.".to_owned(),
        ),
        Refusal::Link(_) => (
            StatusCode::FORBIDDEN,
            "link_refused",
            "This link was not made by this Marquee (or was changed); open it from Marquee's pages."
                .to_owned(),
        ),
    };
    let page = matches!(door, Door::Library | Door::Sessions) && !path.starts_with("/api/");
    if !page {
        return json_error(status, code, &message);
    }
    let title = match (refusal, door) {
        (Refusal::NotAllowed { .. }, _) => "Not on this Marquee's list",
        (_, Door::Sessions) => "Sign in to watch",
        _ => "Sign in to use Marquee",
    };
    let remedy = match refusal {
        Refusal::NotAllowed { .. } => Remedy::SignOut,
        _ => Remedy::SignIn {
            return_to: path.to_owned(),
        },
    };
    let html = RefusalPage {
        title,
        message,
        remedy,
        renew_nonce: match refusal {
            Refusal::SignInRequired => nonce.map(|n| n.0),
            _ => None,
        },
    }
    .render();
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use marquee_store::secret::UrlSigner;

    #[test]
    fn every_kind_of_path_has_its_door() {
        for (path, door) in [
            ("/", Door::Library),
            ("/library/1", Door::Library),
            ("/item/101", Door::Library),
            ("/search", Door::Library),
            ("/watch/101", Door::Library),
            ("/api/home", Door::Library),
            ("/api/playback", Door::Library),
            ("/api/search", Door::Library),
            ("/some/new/page", Door::Library),
            ("/session/abc", Door::Sessions),
            ("/api/session/get", Door::Sessions),
            ("/api/sessions", Door::Sessions),
            ("/api/sessions/abc", Door::Sessions),
            ("/media/101/0/0", Door::SignedUrl),
            ("/img/12/thumb/1", Door::SignedUrl),
            ("/subs/107/0/10715.vtt", Door::SignedUrl),
            ("/previews/101/0/0/60000", Door::SignedUrl),
            ("/api/plex-link/start", Door::Account),
            ("/api/plex-link/status", Door::Account),
            ("/api/plex-linked", Door::Library),
            ("/hls/102/0/start.m3u8", Door::Transcode),
            ("/metrics", Door::Admin),
            ("/api/admin/cache/clear", Door::Admin),
            ("/healthz", Door::Open),
            ("/readyz", Door::Open),
            ("/pkg/marquee.css", Door::Open),
            ("/auth/login", Door::Open),
            ("/api/activity/sign-in", Door::Open),
            ("/activity", Door::Open),
            ("/ws/session/abc", Door::Open),
            ("/sessions-of-mine", Door::Library),
            ("/mediafiles", Door::Library),
        ] {
            assert_eq!(door_of(path), door, "{path}");
        }
    }

    #[test]
    fn the_library_is_for_allowed_people_once_sign_in_is_set_up() {
        let signer = UrlSigner::new([1; 32]);
        let closed = Policy {
            sign_in: true,
            guests: false,
        };
        let guests = Policy {
            sign_in: true,
            guests: true,
        };
        let open = Policy {
            sign_in: false,
            guests: true,
        };
        let ana = Visitor::Person {
            name: "Ana".into(),
            allowed: true,
        };
        let eve = Visitor::Person {
            name: "Eve".into(),
            allowed: false,
        };
        let at = |door, who: &Visitor, policy| admit(door, who, policy, &signer, "/", None);
        assert_eq!(
            at(Door::Library, &Visitor::Stranger, closed),
            Err(Refusal::SignInRequired)
        );
        assert_eq!(
            at(Door::Library, &Visitor::Stranger, guests),
            Err(Refusal::SignInRequired)
        );
        assert_eq!(
            at(Door::Library, &Visitor::Stranger, open),
            Ok(Admitted::Visitor)
        );
        assert_eq!(at(Door::Library, &ana, closed), Ok(Admitted::Visitor));
        assert!(matches!(
            at(Door::Library, &eve, closed),
            Err(Refusal::NotAllowed { .. })
        ));
        assert_eq!(
            at(Door::Sessions, &Visitor::Stranger, guests),
            Ok(Admitted::Visitor)
        );
        assert_eq!(at(Door::Sessions, &eve, guests), Ok(Admitted::Visitor));
        assert_eq!(
            at(Door::Sessions, &Visitor::Stranger, closed),
            Err(Refusal::SignInRequired)
        );
        assert_eq!(at(Door::Admin, &ana, open), Err(Refusal::AdminOnly));
        assert_eq!(
            at(Door::Admin, &Visitor::Admin, closed),
            Ok(Admitted::Visitor)
        );
        assert_eq!(
            at(Door::SignedUrl, &Visitor::Admin, open),
            Err(Refusal::Link(UrlRefusal::Unsigned)),
            "media wants a signed URL from everyone"
        );
        // A Plex link belongs to a Discord account: even an open library does not open it.
        assert_eq!(at(Door::Account, &ana, open), Ok(Admitted::Visitor));
        assert_eq!(
            at(Door::Account, &Visitor::Stranger, open),
            Err(Refusal::SignInRequired)
        );
        assert_eq!(
            at(Door::Account, &Visitor::Admin, open),
            Err(Refusal::SignInRequired)
        );
        assert!(matches!(
            at(Door::Account, &eve, guests),
            Err(Refusal::NotAllowed { .. })
        ));
    }

    #[test]
    fn a_preview_link_is_signed_for_its_part_and_any_time() {
        let signer = UrlSigner::new([3; 32]);
        let open = Policy {
            sign_in: false,
            guests: true,
        };
        let signed = signer.sign("/previews/101/0/0", u64::MAX / 2);
        let query = signed.split_once('?').map(|(_, q)| q);
        let at = |path: &str| {
            admit(
                Door::SignedUrl,
                &Visitor::Stranger,
                open,
                &signer,
                path,
                query,
            )
        };
        assert_eq!(at("/previews/101/0/0/0"), Ok(Admitted::Visitor));
        assert_eq!(at("/previews/101/0/0/5400000"), Ok(Admitted::Visitor));
        for other in [
            "/previews/101/1/0/0",
            "/previews/102/0/0/0",
            "/previews/101/0/1/0",
        ] {
            assert_eq!(at(other), Err(Refusal::Link(UrlRefusal::Forged)), "{other}");
        }
        // Only a preview link leaves its last segment free.
        let media = signer.sign("/media/101/0", u64::MAX / 2);
        let query = media.split_once('?').map(|(_, q)| q);
        assert_eq!(
            admit(
                Door::SignedUrl,
                &Visitor::Stranger,
                open,
                &signer,
                "/media/101/0/0",
                query
            ),
            Err(Refusal::Link(UrlRefusal::Forged))
        );
    }

    #[test]
    fn hls_requests_carry_the_token_of_their_item() {
        let signer = UrlSigner::new([1; 32]);
        let token = signer.transcode_token(
            "102/0",
            &marquee_store::secret::TranscodeOwner::Anonymous,
            unix_now() + 60,
        );
        let policy = Policy {
            sign_in: false,
            guests: true,
        };
        let at = |path: &str, query: Option<&str>| {
            admit(
                Door::Transcode,
                &Visitor::Stranger,
                policy,
                &signer,
                path,
                query,
            )
        };
        let q = format!("session={token}");
        let anonymous = Admitted::Transcode(marquee_store::secret::TranscodeOwner::Anonymous);
        assert_eq!(at("/hls/102/0/start.m3u8", Some(&q)), Ok(anonymous.clone()));
        assert_eq!(
            at(&format!("/hls/102/0/session/{token}/base/index.m3u8"), None),
            Ok(anonymous.clone())
        );
        assert_eq!(
            at(&format!("/hls/102/0/stop/{token}/base"), None),
            Ok(anonymous.clone())
        );
        assert_eq!(
            at(&format!("/hls/102/0/timeline/{token}/q2000"), None),
            Ok(anonymous.clone())
        );
        assert!(at("/hls/102/0/timeline/0123456789abcdef/base", None).is_err());
        assert!(
            at("/hls/103/0/start.m3u8", Some(&q)).is_err(),
            "another item"
        );
        assert!(
            at("/hls/102/1/start.m3u8", Some(&q)).is_err(),
            "another version"
        );
        assert!(at("/hls/102/0/start.m3u8", None).is_err());
        assert!(at("/hls/102/0/session/0123456789abcdef/base/index.m3u8", None).is_err());
    }
}
