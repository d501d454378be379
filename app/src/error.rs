//! The one error type every server function returns: user-facing words, no internals.

use domain::Subject;
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
    Forbidden { what: Subject },
    /// The user's role does not allow this action (the reason is a whole sentence).
    #[error("{reason}")]
    NotAllowed { reason: String },
    /// GitLab does not know it, or does not show it to this user.
    #[error("{} was not found.", what.capitalized())]
    NotFound { what: Subject },
    /// The URL names an instance that is not configured.
    #[error("There is no GitLab instance called “{instance}” here.")]
    UnknownInstance { instance: String },
    /// GitLab did not answer usefully (down, timing out, 5xx, malformed body).
    #[error("GitLab is not answering right now ({detail}).")]
    GitLabUnavailable { detail: String },
    /// GitLab's rate limit was hit and the retry budget ran out.
    #[error("GitLab asked us to slow down. Try again in {retry_after_secs} s.")]
    RateLimited { retry_after_secs: u64 },
    /// The dashboard is too busy right now, or restarting.
    #[error("The dashboard is busy or restarting. Try again in {retry_after_secs} s.")]
    Unavailable { retry_after_secs: u64 },
    /// The request's body is larger than the server accepts.
    #[error("The request is larger than the dashboard accepts.")]
    TooLarge,
    /// The request itself was wrong.
    #[error("{message}")]
    BadRequest { message: String },
    /// Anything else; the details are in the server log.
    #[error("Something went wrong on our side: {message}")]
    Internal { message: String },
}

impl From<domain::input::InputError> for AppError {
    fn from(error: domain::input::InputError) -> Self {
        AppError::BadRequest { message: error.0 }
    }
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
            AppError::Unavailable { .. } => 503,
            AppError::BadRequest { .. } => 400,
            AppError::TooLarge => 413,
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
            AppError::Unavailable { .. } => "Try again in a moment",
            AppError::BadRequest { .. } | AppError::TooLarge => "That request did not work",
            AppError::Internal { .. } => "Something went wrong",
        }
    }
}

/// serde's message without the decoder's framing ("error deserializing …: ", " at line 1
/// column 66"): what is left is the constructor's own sentence.
fn readable_decode_error(message: &str) -> String {
    let message = message
        .split_once(": ")
        .filter(|(head, _)| head.starts_with("error deserializing"))
        .map_or(message, |(_, rest)| rest);
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

impl FromServerFnError for AppError {
    type Encoder = crate::codec::JsonText;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => AppError::GitLabUnavailable {
                detail: "the dashboard server could not be reached".into(),
            },
            ServerFnErrorErr::Args(msg) | ServerFnErrorErr::MissingArg(msg) => {
                AppError::BadRequest { message: msg }
            }
            // On the server: the arguments did not pass their validating constructors.
            ServerFnErrorErr::Deserialization(msg) => AppError::BadRequest {
                message: readable_decode_error(&msg),
            },
            other => AppError::Internal {
                message: other.to_string(),
            },
        }
    }
}
