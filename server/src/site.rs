//! The site's static files (the WASM bundle, its JavaScript, the stylesheet, hls.js, the Discord
//! SDK, the icon) when they are inside the binary.
//!
//! The `marquee` binary carries the site: its `build.rs` hashes each file and compresses it with
//! brotli and gzip once, at build time, and hands the list over through [`install`], so
//! `marquee` runs from any directory with nothing beside it. Files under `/pkg/` are served under content-hashed names
//! (`/pkg/marquee.3f9c2a1b0d4e5f60.js`) that browsers keep for a year, since a new build means new
//! names; every file also answers at its plain name, revalidated by its ETag. A configured
//! `MARQUEE_SITE_ROOT` (the browser tests, a developer's fresh build) is served from its directory
//! instead, as is everything in a process that was given no site (the in-process tests).

use std::collections::HashMap;

use app::assets::AssetNames;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One file of the site, as `build.rs` packed it.
#[derive(Debug)]
pub struct EmbeddedFile {
    /// Its plain path, e.g. `/pkg/marquee.js`.
    pub path: &'static str,
    /// Its content-hashed path, for files directly under `/pkg/`.
    pub hashed: Option<&'static str>,
    pub content_type: &'static str,
    /// The start of the SHA-256 of its bytes, in hex: the hashed name's middle and the ETag.
    pub hash: &'static str,
    pub identity: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

/// The embedded files by every path they answer at.
#[derive(Debug)]
pub struct EmbeddedSite {
    by_path: HashMap<&'static str, (&'static EmbeddedFile, Naming)>,
}

/// Which name a request used: the hashed one may be cached for good, the plain one revalidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    Plain,
    Hashed,
}

/// How a response body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl EmbeddedSite {
    pub fn new(files: &'static [EmbeddedFile]) -> Self {
        let mut by_path = HashMap::new();
        for file in files {
            by_path.insert(file.path, (file, Naming::Plain));
            if let Some(hashed) = file.hashed {
                by_path.insert(hashed, (file, Naming::Hashed));
            }
        }
        EmbeddedSite { by_path }
    }

    /// The pages' name table: each `/pkg/` file's plain name → its hashed name.
    pub fn names(&self) -> AssetNames {
        AssetNames::new(self.by_path.values().filter_map(|(file, _)| {
            let plain = file.path.strip_prefix("/pkg/")?;
            let hashed = file.hashed?.strip_prefix("/pkg/")?;
            Some((plain, hashed))
        }))
    }

    /// The paths outside `/pkg/` (the icon), which need routes of their own.
    pub fn top_level_paths(&self) -> Vec<&'static str> {
        let mut paths: Vec<_> = self
            .by_path
            .keys()
            .copied()
            .filter(|p| !p.starts_with("/pkg/"))
            .collect();
        paths.sort_unstable();
        paths
    }

    /// How many files the binary carries, and their bytes (uncompressed), for the start-up log.
    pub fn size(&self) -> (usize, usize) {
        self.by_path
            .values()
            .filter(|(_, naming)| *naming == Naming::Plain)
            .fold((0, 0), |(n, bytes), (f, _)| {
                (n + 1, bytes + f.identity.len())
            })
    }

    /// The response for a GET or HEAD of `path` (its route takes no other method), or `None`
    /// when the site has no such file.
    pub fn respond(&self, path: &str, headers: &HeaderMap) -> Option<Response> {
        let (file, naming) = self.by_path.get(path)?;
        let accept = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let encoding = choose_encoding(accept, file.brotli.is_some(), file.gzip.is_some());
        let (body, etag) = match encoding {
            Encoding::Brotli => (file.brotli?, format!("\"{}-br\"", file.hash)),
            Encoding::Gzip => (file.gzip?, format!("\"{}-gz\"", file.hash)),
            Encoding::Identity => (file.identity, format!("\"{}\"", file.hash)),
        };
        let cache = match naming {
            Naming::Hashed => "public, max-age=31536000, immutable",
            Naming::Plain => "no-cache",
        };
        let mut out = HeaderMap::new();
        out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Ok(v) = HeaderValue::from_str(&etag) {
            out.insert(header::ETAG, v);
        }
        let matched = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|list| etag_matches(list, &etag));
        if matched {
            return Some((StatusCode::NOT_MODIFIED, out).into_response());
        }
        out.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        match encoding {
            Encoding::Brotli => {
                out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            }
            Encoding::Gzip => {
                out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            Encoding::Identity => {}
        }
        Some((out, Body::from(body)).into_response())
    }
}

/// Brotli if the client takes it, else gzip, else the plain bytes (`q=0` refuses a coding).
fn choose_encoding(accept: &str, brotli: bool, gzip: bool) -> Encoding {
    let takes = |coding: &str| {
        accept.split(',').any(|part| {
            let mut bits = part.split(';').map(str::trim);
            let name = bits.next().unwrap_or("");
            let q = bits
                .find_map(|b| b.strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            name.eq_ignore_ascii_case(coding) && q > 0.0
        })
    };
    if brotli && takes("br") {
        Encoding::Brotli
    } else if gzip && takes("gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// `If-None-Match` uses the weak comparison: `W/` prefixes do not count, `*` matches anything.
fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

static INSTALLED: std::sync::OnceLock<EmbeddedSite> = std::sync::OnceLock::new();

/// Hands this process the site its binary carries (the `marquee` binary does, first thing). An
/// empty list (a binary built before its site) installs nothing.
pub fn install(files: &'static [EmbeddedFile]) {
    if !files.is_empty() {
        let _ = INSTALLED.set(EmbeddedSite::new(files));
    }
}

/// The site inside this binary, if it carries one.
pub fn built_in() -> Option<&'static EmbeddedSite> {
    INSTALLED.get()
}

/// Serves a file of the built-in site (the routes exist only when there is one).
pub async fn serve(request: Request) -> Response {
    built_in()
        .and_then(|site| site.respond(request.uri().path(), request.headers()))
        .unwrap_or_else(|| StatusCode::NOT_FOUND.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    static FILES: &[EmbeddedFile] = &[
        EmbeddedFile {
            path: "/pkg/marquee.js",
            hashed: Some("/pkg/marquee.00112233aabbccdd.js"),
            content_type: "text/javascript; charset=utf-8",
            hash: "00112233aabbccdd",
            identity: b"export default 1;",
            gzip: Some(b"GZ"),
            brotli: Some(b"BR"),
        },
        EmbeddedFile {
            path: "/favicon.svg",
            hashed: None,
            content_type: "image/svg+xml",
            hash: "ffee",
            identity: b"<svg/>",
            gzip: None,
            brotli: None,
        },
    ];

    fn get(site: &EmbeddedSite, path: &str, headers: &[(&str, &str)]) -> Option<Response> {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        site.respond(path, &map)
    }

    fn header(r: &Response, name: header::HeaderName) -> &str {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    #[test]
    fn hashed_names_are_cached_for_good_and_plain_ones_revalidate() {
        let site = EmbeddedSite::new(FILES);
        let hashed = get(&site, "/pkg/marquee.00112233aabbccdd.js", &[]).expect("served");
        assert_eq!(
            header(&hashed, header::CACHE_CONTROL),
            "public, max-age=31536000, immutable"
        );
        let plain = get(&site, "/pkg/marquee.js", &[]).expect("served");
        assert_eq!(header(&plain, header::CACHE_CONTROL), "no-cache");
        assert_eq!(header(&plain, header::ETAG), "\"00112233aabbccdd\"");
        assert!(get(&site, "/pkg/other.js", &[]).is_none());
        assert_eq!(
            site.names().served("marquee.js"),
            "marquee.00112233aabbccdd.js"
        );
        assert_eq!(site.top_level_paths(), vec!["/favicon.svg"]);
    }

    #[test]
    fn the_best_encoding_the_client_takes_is_sent() {
        let site = EmbeddedSite::new(FILES);
        let br = get(
            &site,
            "/pkg/marquee.js",
            &[("accept-encoding", "gzip, deflate, br")],
        )
        .expect("served");
        assert_eq!(header(&br, header::CONTENT_ENCODING), "br");
        assert_eq!(header(&br, header::ETAG), "\"00112233aabbccdd-br\"");
        let gz = get(
            &site,
            "/pkg/marquee.js",
            &[("accept-encoding", "br;q=0, gzip")],
        )
        .expect("served");
        assert_eq!(header(&gz, header::CONTENT_ENCODING), "gzip");
        let plain = get(&site, "/favicon.svg", &[("accept-encoding", "br")]).expect("served");
        assert_eq!(header(&plain, header::CONTENT_ENCODING), "");
        assert_eq!(header(&plain, header::CONTENT_TYPE), "image/svg+xml");
    }

    #[test]
    fn a_matching_etag_gets_not_modified() {
        let site = EmbeddedSite::new(FILES);
        let r = get(
            &site,
            "/pkg/marquee.js",
            &[
                ("accept-encoding", "br"),
                ("if-none-match", "W/\"x\", \"00112233aabbccdd-br\""),
            ],
        )
        .expect("served");
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        let other = get(
            &site,
            "/pkg/marquee.js",
            &[("if-none-match", "\"00112233aabbccdd-br\"")],
        )
        .expect("served");
        assert_eq!(other.status(), StatusCode::OK, "identity has its own tag");
    }
}
