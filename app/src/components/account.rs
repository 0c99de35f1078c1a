//! The header's account corner: "Sign in with Discord", or the signed-in name and "Sign out".

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::error::AppError;
use crate::model::AccountState;

/// Who is signed in. The server reads it from the request (its auth layer verified the access
/// cookie before the page rendered).
#[server(endpoint = "account")]
pub async fn get_account() -> Result<AccountState, AppError> {
    Ok(crate::ssr::account::current())
}

/// The account corner of the header.
#[component]
pub fn AccountCorner() -> impl IntoView {
    let state = Resource::new(|| (), |_| get_account());
    let location = use_location();
    let login_href = move || {
        let path = location.pathname.get();
        format!("/auth/login?return_to={}", encode(&path))
    };
    view! {
        <Suspense fallback=|| ()>
            {move || {
                state
                    .get()
                    .and_then(Result::ok)
                    .map(|s| match s.account {
                        Some(account) => {
                            view! {
                                <form class="account" method="post" action="/auth/logout">
                                    <span class="account-name">{account.name}</span>
                                    <button type="submit" class="link-button">"Sign out"</button>
                                </form>
                            }
                                .into_any()
                        }
                        None if s.sign_in_available => {
                            view! {
                                <a class="account sign-in" href=login_href rel="external">
                                    "Sign in with Discord"
                                </a>
                            }
                                .into_any()
                        }
                        None => ().into_any(),
                    })
            }}
        </Suspense>
    }
}

/// Percent-encodes a path for a query parameter.
fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
