//! The media, HLS and image URLs Marquee hands to browsers, signed ([`UrlSigner`]) so that they
//! work only as written and only for a while: a copied link stops working, and `/media`,
//! `/hls` and `/img` serve nobody who was not given a URL by a page they were allowed to see.
//!
//! Media URLs live for [`MediaUrls::media_ttl`] (a film must finish on the URL it started with).
//! Poster URLs live a week or two and change once a week, so browsers can cache them and
//! Discord's embeds can fetch them long after the bot posted its card.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use marquee_store::secret::{TranscodeOwner, UrlSigner};

use crate::model::{HomeData, ItemCard, ItemDetail, PlaybackInfo, SectionPage};

/// How often poster URLs change; they stay valid for one more period after that.
const POSTER_PERIOD: u64 = 7 * 24 * 3600;

/// Signs the URLs of one installation (see the module docs).
#[derive(Clone, Debug)]
pub struct MediaUrls {
    signer: UrlSigner,
    media_ttl: Duration,
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl MediaUrls {
    pub fn new(signer: UrlSigner, media_ttl: Duration) -> Self {
        Self { signer, media_ttl }
    }

    /// The signer, for the routes that check what it signed.
    pub fn signer(&self) -> &UrlSigner {
        &self.signer
    }

    /// The original file of version `index` of `rating_key`.
    pub fn media(&self, rating_key: &str, index: u32, part: u32) -> String {
        let expires = unix_now() + self.media_ttl.as_secs();
        self.signer
            .sign(&format!("/media/{rating_key}/{index}/{part}"), expires)
    }

    /// The seek previews of a version's part: the player puts the time (ms) after the path,
    /// `/previews/{item}/{version}/{part}/{ms}?exp=…&sig=…` (the signature covers the part).
    pub fn previews(&self, rating_key: &str, index: u32, part: u32) -> String {
        let expires = unix_now() + self.media_ttl.as_secs();
        self.signer
            .sign(&format!("/previews/{rating_key}/{index}/{part}"), expires)
    }

    /// Subtitle stream `stream` of version `index` of `rating_key`, as WebVTT.
    pub fn subtitles(&self, rating_key: &str, index: u32, stream: i64) -> String {
        let expires = unix_now() + self.media_ttl.as_secs();
        self.signer
            .sign(&format!("/subs/{rating_key}/{index}/{stream}.vtt"), expires)
    }

    /// A new transcode of version `index` of `rating_key` for `owner`: its token (the Plex
    /// session id, and the proof for every `/hls` request of it) and the master playlist's URL.
    pub fn transcode(
        &self,
        rating_key: &str,
        index: u32,
        owner: &TranscodeOwner,
        quality: &str,
    ) -> (String, String) {
        let expires = unix_now() + self.media_ttl.as_secs();
        let token = self
            .signer
            .transcode_token(&transcode_item(rating_key, index), owner, expires);
        let src = format!("/hls/{rating_key}/{index}/start.m3u8?session={token}&quality={quality}");
        (token, src)
    }

    /// An `/img/…` path as [`super::mapping::image_url`] writes it, signed.
    pub fn image(&self, path: &str) -> String {
        let period = unix_now() / POSTER_PERIOD;
        self.signer.sign(path, (period + 2) * POSTER_PERIOD)
    }

    fn image_opt(&self, path: &mut Option<String>) {
        if let Some(p) = path.as_mut() {
            *p = self.image(p);
        }
    }

    /// Signs every image of a page model.
    pub fn sign<T: HasImages>(&self, mut value: T) -> T {
        value.sign_images(self);
        value
    }
}

/// What a transcode token is bound to: one version of one item.
pub fn transcode_item(rating_key: &str, index: u32) -> String {
    format!("{rating_key}/{index}")
}

/// Page models that carry image URLs.
pub trait HasImages {
    fn sign_images(&mut self, urls: &MediaUrls);
}

impl HasImages for ItemCard {
    fn sign_images(&mut self, urls: &MediaUrls) {
        urls.image_opt(&mut self.poster);
    }
}

impl<T: HasImages> HasImages for Vec<T> {
    fn sign_images(&mut self, urls: &MediaUrls) {
        for item in self {
            item.sign_images(urls);
        }
    }
}

impl HasImages for HomeData {
    fn sign_images(&mut self, urls: &MediaUrls) {
        self.continue_watching.sign_images(urls);
        self.recently_added.sign_images(urls);
    }
}

impl HasImages for SectionPage {
    fn sign_images(&mut self, urls: &MediaUrls) {
        self.items.sign_images(urls);
    }
}

impl HasImages for ItemDetail {
    fn sign_images(&mut self, urls: &MediaUrls) {
        urls.image_opt(&mut self.poster);
        urls.image_opt(&mut self.backdrop);
        self.children.sign_images(urls);
    }
}

impl HasImages for PlaybackInfo {
    fn sign_images(&mut self, urls: &MediaUrls) {
        urls.image_opt(&mut self.poster);
        urls.image_opt(&mut self.backdrop);
    }
}
