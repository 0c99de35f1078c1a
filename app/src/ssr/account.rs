//! The signed-in account of the current request. The server's auth layer checks the access
//! cookie and leaves the result in the request's extensions; pages only read it.

use leptos::prelude::use_context;

use crate::error::AppError;
use crate::model::{Account, AccountState};

/// Whether Discord sign-in is configured on this server (provided as context).
#[derive(Clone, Copy, Debug)]
pub struct SignInAvailable(pub bool);

/// Whether people who are not signed in may watch (`MARQUEE_GUESTS`; provided as context).
#[derive(Clone, Copy, Debug)]
pub struct GuestsAdmitted(pub bool);

/// Refuses a request that is not signed in when guests are off: a share link alone shows such
/// a visitor nothing of the session (not its title, not who is watching), and starts nothing.
pub fn require_viewer() -> Result<(), AppError> {
    let guests = use_context::<GuestsAdmitted>().is_none_or(|g| g.0);
    if guests || current().account.is_some() {
        Ok(())
    } else {
        Err(AppError::SignInRequired)
    }
}

/// The account of the current request, if the access cookie was valid.
pub fn current() -> AccountState {
    let account = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Account>().cloned());
    AccountState {
        account,
        sign_in_available: use_context::<SignInAvailable>().is_some_and(|s| s.0),
    }
}
