//! Errors of the Plex client, typed so callers can tell "fix your token" from "server down".

impl PlexError {
    /// A short name of the kind of failure, for a metrics label.
    pub fn kind(&self) -> &'static str {
        match self {
            PlexError::Unauthorized => "unauthorized",
            PlexError::NotFound { .. } => "not_found",
            PlexError::Unreachable { .. } => "unreachable",
            PlexError::Timeout => "timeout",
            PlexError::Socket(_) => "socket",
            PlexError::Status { .. } => "status",
            PlexError::Malformed { .. } => "malformed",
            PlexError::InvalidConfig(_) => "config",
            PlexError::InvalidInput(_) => "input",
            PlexError::Request { .. } => "request",
        }
    }
}

/// Why a Plex call failed.
#[derive(Debug, thiserror::Error)]
pub enum PlexError {
    /// The server rejected the token (401/403): the admin must re-link Plex.
    #[error("Plex rejected the token")]
    Unauthorized,
    /// The item or path does not exist (404), e.g. a deleted library item.
    #[error("Plex has nothing at {path}")]
    NotFound {
        /// Path requested (never includes the token).
        path: String,
    },
    /// The server could not be reached at all (refused, DNS, TLS handshake…).
    #[error("Plex at {base_url} is unreachable")]
    Unreachable {
        /// The configured server URL.
        base_url: String,
        /// The underlying connection error.
        #[source]
        source: reqwest::Error,
    },
    /// The server did not answer within the configured timeout.
    #[error("Plex did not answer in time")]
    Timeout,
    /// The notification socket could not be opened or failed.
    #[error("Plex's notification socket failed: {0}")]
    Socket(String),
    /// Any other unexpected status.
    #[error("Plex answered with status {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The response body could not be understood.
    #[error("Plex sent a malformed response for {what}")]
    Malformed {
        /// Which request's body was malformed.
        what: String,
        /// Parser error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The client configuration is unusable (bad URL, header characters…).
    #[error("invalid Plex configuration: {0}")]
    InvalidConfig(String),
    /// An argument (ratingKey, section key…) cannot be put into a Plex URL.
    #[error("invalid argument: {0}")]
    InvalidInput(String),
    /// The request failed for another transport reason (e.g. the connection dropped mid-body).
    #[error("request to Plex failed")]
    Request {
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
}
