use std::time::Duration;

/// What a GitLab call can end in, classified for retrying and for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitLabError {
    /// 401 with "Token is expired": refresh and try again.
    #[error("the access token expired")]
    TokenExpired,
    /// 401 otherwise (unknown or revoked token): the user must sign in again.
    #[error("GitLab did not accept the access token")]
    Unauthorized,
    #[error("GitLab refused access (403)")]
    Forbidden,
    #[error("GitLab answered 404")]
    NotFound,
    /// 429 whose wait was longer than we are willing to hold a request.
    #[error("rate limited by GitLab; retry after {0:?}")]
    RateLimited(Duration),
    /// 5xx, timeouts, connection failures.
    #[error("GitLab is unavailable: {0}")]
    Unavailable(String),
    /// A body we could not read.
    #[error("GitLab sent an unexpected answer: {0}")]
    Malformed(String),
    /// A mutation GitLab refused, with its own reason (403 protected tag, 400 …).
    #[error("{0}")]
    Refused(String),
    /// 400/405/422 and GraphQL errors: the request was refused as such.
    #[error("GitLab rejected the request: {0}")]
    Rejected(String),
}

impl GitLabError {
    /// Worth another attempt after a pause (never for mutations; the caller decides).
    pub fn is_transient(&self) -> bool {
        matches!(self, GitLabError::Unavailable(_))
    }
}
