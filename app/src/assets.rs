//! The site's own files (`/pkg/marquee.js`, the WASM, the stylesheet, hls.js, the Discord SDK)
//! and the names they are served under.
//!
//! A server running from a site directory (`scripts/run.sh`, the tests) serves them under their
//! plain names. The release binary carries the site inside it under content-hashed names
//! (`marquee.3f9c2a1b0d4e5f60.js`) that browsers may keep for a year, because a new build gets
//! new names. Pages ask [`pkg_path`] for a file's served path; the server installs the table at
//! start ([`install`]) and writes it into every page (`<meta name="marquee-assets">`), where the
//! browser half reads it, so a bundle never needs rebuilding to learn its neighbours' names.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The `<meta>` element that carries the table into the page.
pub const META_NAME: &str = "marquee-assets";

/// Plain name → served name, for the files under `/pkg/` whose names differ.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AssetNames(BTreeMap<String, String>);

impl AssetNames {
    /// A table from (plain, served) pairs.
    pub fn new<I, A, B>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (A, B)>,
        A: Into<String>,
        B: Into<String>,
    {
        AssetNames(
            pairs
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect(),
        )
    }

    /// The name `plain` (say `"hls.min.js"`) is served under; the plain name when it has no other.
    pub fn served<'a>(&'a self, plain: &'a str) -> &'a str {
        self.0.get(plain).map(String::as_str).unwrap_or(plain)
    }

    /// Whether every file keeps its plain name (a site directory).
    pub fn is_plain(&self) -> bool {
        self.0.is_empty()
    }
}

/// This process's table and its JSON for the pages, made once: on the server by [`install`] at
/// start (or empty), in the browser from the page's `<meta>` the first time it is asked for.
static TABLE: std::sync::OnceLock<(AssetNames, String)> = std::sync::OnceLock::new();

fn table() -> &'static (AssetNames, String) {
    TABLE.get_or_init(|| {
        #[cfg(feature = "ssr")]
        let names = AssetNames::default();
        #[cfg(not(feature = "ssr"))]
        let names = from_page();
        with_json(names)
    })
}

fn with_json(names: AssetNames) -> (AssetNames, String) {
    let json = serde_json::to_string(&names).unwrap_or_else(|_| "{}".into());
    (names, json)
}

/// Sets the table for this process (the server, at start, before any page renders). The first
/// call wins: one process serves one site.
#[cfg(feature = "ssr")]
pub fn install(names: AssetNames) {
    if TABLE.set(with_json(names)).is_err() {
        tracing::warn!(
            "the site's file names were asked for before they were installed: pages use the plain names"
        );
    }
}

/// This process's table: on the server the installed one; in the browser the one the page carries.
pub fn names() -> &'static AssetNames {
    &table().0
}

#[cfg(not(feature = "ssr"))]
fn from_page() -> AssetNames {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector(&format!("meta[name=\"{META_NAME}\"]"))
                .ok()
                .flatten()
        })
        .and_then(|m| m.get_attribute("content"))
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

/// The absolute path `plain` is served under, e.g. `/pkg/hls.min.<hash>.js`.
pub fn pkg_path(plain: &str) -> String {
    format!("/pkg/{}", names().served(plain))
}

/// The page's stylesheet link, the asset table, and the bootstrap that loads the WASM bundle and
/// hydrates the page (its inline script carries the response's CSP nonce). `root` goes before
/// every path: `""` for pages at the origin's root, `"."` for the Activity, whose document may sit
/// under Discord's `/.proxy` prefix.
#[component]
pub fn SiteHead(#[prop(optional, into)] root: String) -> impl IntoView {
    let (names, json) = table();
    let url = |plain: &str| format!("{root}/pkg/{}", names.served(plain));
    let (css, js, wasm) = (
        url("marquee.css"),
        url("marquee.js"),
        url("marquee_bg.wasm"),
    );
    // A site directory keeps every plain name: the browser needs no table then.
    let table =
        (!names.is_plain()).then(|| view! { <meta name=META_NAME content=json.as_str() /> });
    let boot = format!(
        "import init, {{ hydrate }} from {js:?};\ninit({{ module_or_path: {wasm:?} }}).then(() => hydrate());"
    );
    let nonce = leptos::nonce::use_nonce();
    view! {
        {table}
        <link rel="stylesheet" href=css />
        <link rel="modulepreload" href=js crossorigin="" />
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="" />
        <script type="module" nonce=nonce>{boot}</script>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_another_name_keeps_its_own() {
        let names = AssetNames::new([("marquee.js", "marquee.0123456789abcdef.js")]);
        assert_eq!(names.served("marquee.js"), "marquee.0123456789abcdef.js");
        assert_eq!(names.served("hls.min.js"), "hls.min.js");
        assert!(!names.is_plain());
        assert!(AssetNames::default().is_plain());
    }

    #[test]
    fn the_table_reads_back_from_its_json() {
        let names = AssetNames::new([("marquee.css", "marquee.aa.css")]);
        let json = serde_json::to_string(&names).expect("serialises");
        assert_eq!(json, r#"{"marquee.css":"marquee.aa.css"}"#);
        assert_eq!(
            serde_json::from_str::<AssetNames>(&json).expect("parses"),
            names
        );
    }
}
