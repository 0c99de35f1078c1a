//! The signed-in account of the current request. The server's auth layer checks the access
//! cookie and leaves the result in the request's extensions; pages only read it.

use leptos::prelude::use_context;

use crate::model::{Account, AccountState};

/// Whether Discord sign-in is configured on this server (provided as context).
#[derive(Clone, Copy, Debug)]
pub struct SignInAvailable(pub bool);

/// The account of the current request, if the access cookie was valid.
pub fn current() -> AccountState {
    let account = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Account>().cloned());
    AccountState {
        account,
        sign_in_available: use_context::<SignInAvailable>().is_some_and(|s| s.0),
    }
}

/// Whom a transcode started by this request counts against: the signed-in person, else the
/// client address (decided by the server when the transcode starts).
pub fn transcode_owner() -> marquee_store::secret::TranscodeOwner {
    use marquee_store::secret::TranscodeOwner;
    current()
        .account
        .and_then(|a| a.discord_id.parse().ok())
        .map_or(TranscodeOwner::Anonymous, TranscodeOwner::Person)
}
