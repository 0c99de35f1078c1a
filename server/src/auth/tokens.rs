//! Marquee's own session tokens: a short-lived signed access token (JWT, HS256) and a long-lived
//! refresh token (a [`marquee_store::secret`]) that is only ever stored hashed and is replaced on
//! every use.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// What an access token says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Marquee's user id (a string, as JWT's `sub` is).
    pub sub: String,
    /// The Discord user id.
    pub did: String,
    /// Display name when the token was issued.
    pub name: String,
    /// Whether this person may use this Marquee (see `auth::allowed`), as of `iat`.
    #[serde(default)]
    pub allowed: bool,
    pub iat: i64,
    pub exp: i64,
    /// Always [`ISSUER`] and [`AUDIENCE`]: a token signed for something else with the same key
    /// is not a Marquee access token.
    pub iss: String,
    pub aud: String,
    /// The sign-in (refresh family) this token belongs to: signing out ends its tokens
    /// before they expire (see `auth::Revocations`).
    #[serde(default)]
    pub sid: String,
}

/// Who issues access tokens, and what they are for (`iss` and `aud`).
pub const ISSUER: &str = "marquee";
pub const AUDIENCE: &str = "marquee-access";

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid")]
    Invalid,
    #[error("this sign-in has ended")]
    Revoked,
}

/// Signs and checks access tokens with the server's key.
pub struct AccessKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub ttl: Duration,
}

impl AccessKeys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is exact: a refresh is cheap, a stale token is not.
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// A token for `claims` (its `iat`/`exp` as given).
    pub fn sign(&self, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .expect("HS256 over plain string and number claims cannot fail")
    }

    /// The claims of a valid, unexpired token signed with this key.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        match jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}
