//! The page a browser gets when the access guard turns a page load away. It is rendered here,
//! with the app's own brand and error box, so it cannot drift from the app's pages; it is
//! rendered outside the router because a refused visitor gets no app state at all.

use leptos::prelude::*;

use crate::components::account::{SIGNED_IN_HINT, login_href};
use crate::components::layout::Brand;

/// What the visitor can do about the refusal.
pub enum Remedy {
    /// Sign in with Discord and come back to `return_to`.
    SignIn { return_to: String },
    /// Signed in, but not admitted: sign out (to sign in as someone else).
    SignOut,
}

/// A refused page load.
pub struct RefusalPage {
    pub title: &'static str,
    pub message: String,
    pub remedy: Remedy,
    /// The page's script nonce, when the browser may hold a sign-in whose access token has
    /// expired: a small script then renews it (at most once a minute) and reloads.
    pub renew_nonce: Option<String>,
}

/// The renewal script. Only `/auth/refresh` reads the refresh cookie, so the page asks it and,
/// if a sign-in is renewed, loads again.
fn renew_script() -> String {
    format!(
        "(function(){{var k='marquee.renewedAt',t=Number(sessionStorage.getItem(k)||0);\
         if(document.cookie.split(';').some(function(c){{return c.trim()==='{SIGNED_IN_HINT}=1'}})\
         &&Date.now()-t>60000){{sessionStorage.setItem(k,String(Date.now()));\
         fetch('/auth/refresh',{{method:'POST'}}).then(function(r){{if(r.ok)location.reload()}})}}}})();"
    )
}

impl RefusalPage {
    /// The whole HTML document.
    pub fn render(self) -> String {
        let RefusalPage {
            title,
            message,
            remedy,
            renew_nonce,
        } = self;
        let action = match remedy {
            Remedy::SignIn { return_to } => view! {
                <a class="button primary sign-in" href=login_href(&return_to) rel="external">
                    "Sign in with Discord"
                </a>
            }
            .into_any(),
            Remedy::SignOut => view! {
                <form method="post" action="/auth/logout">
                    <button class="button" type="submit">"Sign out"</button>
                </form>
            }
            .into_any(),
        };
        let renew = renew_nonce
            .map(|nonce| view! { <script nonce=nonce inner_html=renew_script()></script> });
        let page = view! {
            <html lang="en">
                <head>
                    <meta charset="utf-8" />
                    <meta name="viewport" content="width=device-width, initial-scale=1" />
                    <title>{format!("{title} · Marquee")}</title>
                    <link rel="stylesheet" href=crate::assets::pkg_path("marquee.css") />
                    <link rel="icon" href="/favicon.svg" />
                </head>
                <body>
                    <header class="topbar">
                        <Brand />
                    </header>
                    <main>
                        <section class="error-box sign-in-required" role="alert">
                            <h2>{title}</h2>
                            <p>{message}</p>
                            {action}
                        </section>
                    </main>
                    {renew}
                </body>
            </html>
        };
        let html = Owner::new().with(|| page.to_html());
        format!("<!DOCTYPE html>{html}")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_page_escapes_what_it_is_given_and_carries_the_nonce() {
        let html = RefusalPage {
            title: "Sign in to watch",
            message: "You are <b>Eve</b> & not on the list".into(),
            remedy: Remedy::SignIn {
                return_to: "/watch/1?t=\"x\"".into(),
            },
            renew_nonce: Some("n0nce".into()),
        }
        .render();
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"en\">"),
            "{html}"
        );
        assert!(
            html.contains("<title>Sign in to watch · Marquee</title>"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;Eve&lt;/b&gt; &amp; not"), "{html}");
        assert!(!html.contains("<b>Eve"), "{html}");
        assert!(
            html.contains("class=\"brand\""),
            "the app's own brand: {html}"
        );
        assert!(html.contains("nonce=\"n0nce\""), "{html}");
        assert!(
            html.contains("c.trim()==='__Host-marquee_signed_in=1'"),
            "{html}"
        );
        assert!(!html.contains("\"x\"\""), "{html}");
    }
}
