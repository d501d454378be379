//! The one error type every server function returns: user-facing words, no internals.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What went wrong, in terms a user can act on. Serialized to the browser, so it must never
/// carry tokens, upstream bodies or stack traces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No GitLab session for this instance (never signed in, signed out, or expired).
    #[error("You are not signed in to {instance}.")]
    NotSignedIn { instance: String },
    /// GitLab said the user's role does not allow this.
    #[error("You do not have access to {what}.")]
    Forbidden { what: String },
    /// The user's role does not allow this action (the reason is a whole sentence).
    #[error("{reason}")]
    NotAllowed { reason: String },
    /// GitLab does not know it, or does not show it to this user.
    #[error("{what} was not found.")]
    NotFound { what: String },
    /// The URL names an instance that is not configured.
    #[error("There is no GitLab instance called “{instance}” here.")]
    UnknownInstance { instance: String },
    /// GitLab did not answer usefully (down, timing out, 5xx, malformed body).
    #[error("GitLab is not answering right now ({detail}).")]
    GitLabUnavailable { detail: String },
    /// GitLab's rate limit was hit and the retry budget ran out.
    #[error("GitLab asked us to slow down. Try again in {retry_after_secs} s.")]
    RateLimited { retry_after_secs: u64 },
    /// The request itself was wrong.
    #[error("{message}")]
    BadRequest { message: String },
    /// Anything else; the details are in the server log.
    #[error("Something went wrong on our side: {message}")]
    Internal { message: String },
}

impl AppError {
    /// The HTTP status this error maps to on the JSON API.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotSignedIn { .. } => 401,
            AppError::Forbidden { .. } | AppError::NotAllowed { .. } => 403,
            AppError::NotFound { .. } | AppError::UnknownInstance { .. } => 404,
            AppError::GitLabUnavailable { .. } => 502,
            AppError::RateLimited { .. } => 429,
            AppError::BadRequest { .. } => 400,
            AppError::Internal { .. } => 500,
        }
    }

    /// A short title for an error page.
    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotSignedIn { .. } => "Sign in to continue",
            AppError::Forbidden { .. } => "Access denied",
            AppError::NotAllowed { .. } => "Not allowed with your role",
            AppError::NotFound { .. } | AppError::UnknownInstance { .. } => "Not found",
            AppError::GitLabUnavailable { .. } => "GitLab is unreachable",
            AppError::RateLimited { .. } => "Too many requests",
            AppError::BadRequest { .. } => "That request did not work",
            AppError::Internal { .. } => "Something went wrong",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::GitLabUnavailable {
                detail: "the dashboard server could not be reached".into(),
            },
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest { message: msg }
            }
            other => AppError::Internal {
                message: other.to_string(),
            },
        }
    }
}
