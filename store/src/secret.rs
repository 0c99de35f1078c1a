//! Bearer secrets Marquee hands out and later checks (refresh tokens, members' rejoin keys):
//! 256 random bits each, and only their SHA-256 is ever stored, so a copy of the database lets
//! nobody sign in or take a member's place. And [`UrlSigner`]: media, HLS and image URLs that
//! work only for a while and only as Marquee wrote them.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// A new secret: 256 random bits, as 64 hex digits.
pub fn new_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

/// A secret derived from `key` and `input` (HMAC-SHA256, 64 hex digits): the same input
/// always gives the same secret, and nobody without `key` can compute it. A refresh token's
/// successor is derived from the token, so two requests presenting it at once agree.
pub fn derive_secret(key: &[u8], input: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(input.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// How a secret is stored: its SHA-256, hex.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Whether `presented` is the secret whose stored hash is `stored_hash`. Compares in constant
/// time, so the answer's timing says nothing about how much of the hash matched.
pub fn secret_matches(presented: &str, stored_hash: &str) -> bool {
    constant_time_eq(hash_secret(presented).as_bytes(), stored_hash.as_bytes())
}

/// Why a signed URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("this link is not signed")]
    Unsigned,
    #[error("this link has expired")]
    Expired,
    #[error("this link was not made by this Marquee")]
    Forged,
}

/// Signs and checks URLs with an HMAC-SHA256 over the path, the query before the signature and
/// an expiry (`exp`, Unix seconds). Every web server of one installation shares the key (it is
/// kept in the database), so a URL one server signed works on all of them.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(..)")
    }
}

/// A signature in a URL: 128 bits, hex.
const SIG_HEX: usize = 32;

impl UrlSigner {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, message: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .expect("HMAC takes a key of any length");
        mac.update(message.as_bytes());
        let tag = mac.finalize().into_bytes();
        hex(&tag[..SIG_HEX / 2])
    }

    /// `path_and_query` with `exp` and `sig` appended: valid until `expires` (Unix seconds).
    pub fn sign(&self, path_and_query: &str, expires: u64) -> String {
        let sep = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        let unsigned = format!("{path_and_query}{sep}exp={expires}");
        let sig = self.mac(&unsigned);
        format!("{unsigned}&sig={sig}")
    }

    /// Checks a request's path and raw query at `now` (Unix seconds): the query must end in
    /// the `exp` and `sig` that [`UrlSigner::sign`] wrote.
    pub fn verify(&self, path: &str, query: Option<&str>, now: u64) -> Result<(), UrlRefusal> {
        let query = query.ok_or(UrlRefusal::Unsigned)?;
        let (before, sig) = match query.rsplit_once("&sig=") {
            Some(split) => split,
            None => return Err(UrlRefusal::Unsigned),
        };
        let exp = before
            .rsplit('&')
            .next()
            .and_then(|last| last.strip_prefix("exp="))
            .ok_or(UrlRefusal::Unsigned)?;
        let expires: u64 = exp.parse().map_err(|_| UrlRefusal::Forged)?;
        let expected = self.mac(&format!("{path}?{before}"));
        if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
            return Err(UrlRefusal::Forged);
        }
        if expires < now {
            return Err(UrlRefusal::Expired);
        }
        Ok(())
    }

    /// A token standing for one transcode of `item` (a rating key and version, e.g. `101/0`)
    /// started for `owner` until `expires`: the transcode session id Plex sees, and the proof
    /// that Marquee started it. `owner` ([`TranscodeOwner::tag`]) is signed in, so the caps on
    /// transcodes per person hold whoever presents the token. Letters, digits and `-`, at most
    /// [`TRANSCODE_TOKEN_MAX`] characters.
    pub fn transcode_token(&self, item: &str, owner: &TranscodeOwner, expires: u64) -> String {
        let nonce: [u8; 8] = rand::random();
        let body = format!("{}-{expires:x}-{}", hex(&nonce), owner.tag());
        let sig = self.mac(&format!("transcode:{item}:{body}"));
        format!("{body}-{sig}")
    }

    /// The owner of `token` if it is a [`UrlSigner::transcode_token`] for `item` that is still
    /// valid.
    pub fn check_transcode_token(
        &self,
        item: &str,
        token: &str,
        now: u64,
    ) -> Result<TranscodeOwner, UrlRefusal> {
        let Some((body, sig)) = token.rsplit_once('-') else {
            return Err(UrlRefusal::Unsigned);
        };
        let mut fields = body.split('-');
        let (Some(_nonce), Some(exp), Some(owner), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(UrlRefusal::Unsigned);
        };
        let expires = u64::from_str_radix(exp, 16).map_err(|_| UrlRefusal::Forged)?;
        let expected = self.mac(&format!("transcode:{item}:{body}"));
        if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
            return Err(UrlRefusal::Forged);
        }
        if expires < now {
            return Err(UrlRefusal::Expired);
        }
        TranscodeOwner::from_tag(owner).ok_or(UrlRefusal::Forged)
    }
}

/// Longest transcode token [`UrlSigner::transcode_token`] writes: 16 + 16 + 21 + 32 characters
/// and three dashes, with room to spare.
pub const TRANSCODE_TOKEN_MAX: usize = 96;

/// Whom a transcode was started for: the unit its per-person cap counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TranscodeOwner {
    /// A signed-in person, by Discord user id.
    Person(u64),
    /// Someone not signed in (a guest, or anyone on a Marquee without sign-in); the server
    /// counts these by client address.
    Anonymous,
}

impl TranscodeOwner {
    /// As written in a token: `p` and the Discord id, or `a`.
    pub fn tag(&self) -> String {
        match self {
            TranscodeOwner::Person(id) => format!("p{id}"),
            TranscodeOwner::Anonymous => "a".to_owned(),
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        match tag.strip_prefix('p') {
            Some(id) => id.parse().ok().map(TranscodeOwner::Person),
            None => (tag == "a").then_some(TranscodeOwner::Anonymous),
        }
    }
}

/// Whether two byte strings are equal, in time that depends only on their length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Why a sealed token could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Not something [`TokenSealer::seal`] wrote.
    #[error("the sealed token is not in a known format")]
    Format,
    /// Sealed under another key, for another owner, or altered.
    #[error("the sealed token does not open with this key (was the token key changed?)")]
    Key,
}

/// Seals tokens Marquee must keep and use again (a viewer's Plex token): XChaCha20-Poly1305
/// under a key derived from the configured token key, with a fresh random nonce each time, and
/// bound to its owner (the additional data), so a sealed token copied onto another person's row
/// does not open. A database dump without the key reveals no token.
#[derive(Clone)]
pub struct TokenSealer {
    cipher: chacha20poly1305::XChaCha20Poly1305,
}

impl std::fmt::Debug for TokenSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSealer([redacted])")
    }
}

/// What a sealed token starts with: the format's version.
const SEALED_PREFIX: &str = "v1.";

impl TokenSealer {
    /// A sealer for the configured key (any length; it is hashed into the cipher's key).
    pub fn new(key: &[u8]) -> Self {
        use chacha20poly1305::KeyInit;
        let derived = derive_secret(key, "marquee token sealing v1");
        let digest = Sha256::digest(derived.as_bytes());
        TokenSealer {
            cipher: chacha20poly1305::XChaCha20Poly1305::new(&digest),
        }
    }

    /// `token`, sealed for `owner`: `v1.` then the nonce and ciphertext in hex.
    pub fn seal(&self, owner: &str, token: &str) -> String {
        use chacha20poly1305::aead::{Aead, Payload};
        let nonce: [u8; 24] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: token.as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 seals any message shorter than 256 GiB");
        format!("{SEALED_PREFIX}{}{}", hex(&nonce), hex(&sealed))
    }

    /// The token [`TokenSealer::seal`] sealed for `owner`.
    pub fn open(&self, owner: &str, sealed: &str) -> Result<String, SealError> {
        use chacha20poly1305::aead::{Aead, Payload};
        let bytes = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(unhex)
            .filter(|b| b.len() > 24)
            .ok_or(SealError::Format)?;
        let (nonce, ciphertext) = bytes.split_at(24);
        let plain = self
            .cipher
            .decrypt(
                nonce.into(),
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SealError::Key)?;
        String::from_utf8(plain).map_err(|_| SealError::Format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_only_with_their_key_and_owner() {
        let sealer = TokenSealer::new(b"a configured token key of some length");
        let sealed = sealer.seal("1001", "plex-token-abc");
        assert!(!sealed.contains("plex-token-abc"));
        assert_ne!(
            sealed,
            sealer.seal("1001", "plex-token-abc"),
            "fresh nonce each time"
        );
        assert_eq!(
            sealer.open("1001", &sealed).as_deref(),
            Ok("plex-token-abc")
        );
        assert_eq!(sealer.open("1002", &sealed), Err(SealError::Key));
        let other = TokenSealer::new(b"another key entirely, also long enough");
        assert_eq!(other.open("1001", &sealed), Err(SealError::Key));
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('0') { '1' } else { '0' });
        assert_eq!(sealer.open("1001", &altered), Err(SealError::Key));
        assert_eq!(
            sealer.open("1001", "plex-token-abc"),
            Err(SealError::Format)
        );
        assert_eq!(sealer.open("1001", "v1.zz"), Err(SealError::Format));
    }

    #[test]
    fn secrets_are_long_random_and_checked_by_hash() {
        let a = new_secret();
        let b = new_secret();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        let stored = hash_secret(&a);
        assert_ne!(stored, a, "the secret itself is never what is stored");
        assert!(secret_matches(&a, &stored));
        assert!(!secret_matches(&b, &stored));
        assert!(!secret_matches("", &stored));
    }

    #[test]
    fn signed_urls_work_as_written_until_they_expire() {
        let signer = UrlSigner::new([7; 32]);
        let url = signer.sign("/img/12/thumb/5?w=240&h=360", 1_000);
        let (path, query) = url.split_once('?').expect("a signed URL has a query");
        assert_eq!(path, "/img/12/thumb/5");
        assert_eq!(signer.verify(path, Some(query), 999), Ok(()));
        assert_eq!(signer.verify(path, Some(query), 1_000), Ok(()));
        assert_eq!(
            signer.verify(path, Some(query), 1_001),
            Err(UrlRefusal::Expired)
        );
        // Another path, another size, a later expiry, another key: refused.
        assert_eq!(
            signer.verify("/img/13/thumb/5", Some(query), 0),
            Err(UrlRefusal::Forged)
        );
        let bigger = query.replace("w=240", "w=1920");
        assert_eq!(
            signer.verify(path, Some(&bigger), 0),
            Err(UrlRefusal::Forged)
        );
        let later = query.replace("exp=1000", "exp=9999");
        assert_eq!(
            signer.verify(path, Some(&later), 0),
            Err(UrlRefusal::Forged)
        );
        let other = UrlSigner::new([8; 32]);
        assert_eq!(other.verify(path, Some(query), 0), Err(UrlRefusal::Forged));
        assert_eq!(
            signer.verify(path, Some("w=240&h=360"), 0),
            Err(UrlRefusal::Unsigned)
        );
        assert_eq!(signer.verify(path, None, 0), Err(UrlRefusal::Unsigned));
        let bare = signer.sign("/media/101/0/0", 50);
        let (path, query) = bare.split_once('?').expect("a signed URL has a query");
        assert_eq!(signer.verify(path, Some(query), 10), Ok(()));
    }

    #[test]
    fn transcode_tokens_stand_for_one_item_and_owner_until_they_expire() {
        let signer = UrlSigner::new([7; 32]);
        let ana = TranscodeOwner::Person(u64::MAX);
        let token = signer.transcode_token("101/0", &ana, 500);
        assert!(token.len() <= TRANSCODE_TOKEN_MAX, "{token}");
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        );
        assert_ne!(
            token,
            signer.transcode_token("101/0", &ana, 500),
            "each is new"
        );
        assert_eq!(signer.check_transcode_token("101/0", &token, 400), Ok(ana));
        let guest = signer.transcode_token("101/0", &TranscodeOwner::Anonymous, 500);
        assert_eq!(
            signer.check_transcode_token("101/0", &guest, 400),
            Ok(TranscodeOwner::Anonymous)
        );
        assert_eq!(
            signer.check_transcode_token("101/0", &token, 501),
            Err(UrlRefusal::Expired)
        );
        assert_eq!(
            signer.check_transcode_token("102/0", &token, 400),
            Err(UrlRefusal::Forged)
        );
        // Another owner written into a real token breaks its signature.
        let (body, sig) = token.rsplit_once('-').expect("a signed token");
        let (rest, _) = body.rsplit_once('-').expect("an owner field");
        assert_eq!(
            signer.check_transcode_token("101/0", &format!("{rest}-p1-{sig}"), 400),
            Err(UrlRefusal::Forged)
        );
        assert_eq!(
            signer.check_transcode_token("101/0", "a-b-c-d", 400),
            Err(UrlRefusal::Forged)
        );
        assert_eq!(
            signer.check_transcode_token("101/0", "plain", 400),
            Err(UrlRefusal::Unsigned)
        );
    }
}
