//! The one translation of GitLab's answers into what users read.
//!
//! A failed read becomes an [`AppError`] about a typed [`Subject`]; a failed step of a longer
//! job (one tag of a deletion, one repository of a run, an index build) becomes one sentence
//! from [`sentence`]. Internal details (upstream bodies, URLs) go to the log only.

use crate::gitlab::GitLabError;
use app::error::AppError;
use domain::Subject;

/// GitLab's answer about `subject`, for the user. `Unauthorized` and `TokenExpired` are the
/// caller's sign-in ending (handled where the credential is known, see `services::Gateway`).
pub fn app_error(error: GitLabError, subject: Subject) -> AppError {
    match error {
        GitLabError::Forbidden => AppError::Forbidden { what: subject },
        GitLabError::NotFound => AppError::NotFound { what: subject },
        GitLabError::RateLimited(wait) => AppError::RateLimited {
            retry_after_secs: wait.as_secs().max(1),
        },
        GitLabError::Unavailable(detail) => {
            tracing::warn!(%detail, "GitLab unavailable");
            AppError::GitLabUnavailable { detail }
        }
        GitLabError::Malformed(detail) => {
            tracing::warn!(%detail, "malformed GitLab answer");
            AppError::GitLabUnavailable {
                detail: "GitLab sent an unexpected answer".into(),
            }
        }
        GitLabError::Refused(message) => AppError::BadRequest {
            message: format!("GitLab refused: {message}"),
        },
        GitLabError::Rejected(detail) => {
            tracing::warn!(%detail, "GitLab rejected a request");
            AppError::BadRequest {
                message: format!("GitLab could not answer for {subject}."),
            }
        }
        GitLabError::TokenExpired | GitLabError::Unauthorized => AppError::NotSignedIn {
            instance: String::new(),
        },
    }
}

/// One step of a longer job that GitLab did not do, in one sentence (a tag of a deletion, a
/// repository of a run, an index build).
pub fn sentence(error: &GitLabError) -> String {
    match error {
        GitLabError::Refused(message) => message.clone(),
        GitLabError::Forbidden => "GitLab says your role may not do this here.".into(),
        GitLabError::NotFound => "GitLab does not have it (deleted meanwhile?).".into(),
        GitLabError::RateLimited(wait) => format!(
            "GitLab's rate limit: try again in {} s.",
            wait.as_secs().max(1)
        ),
        GitLabError::TokenExpired | GitLabError::Unauthorized => {
            "Your GitLab sign-in ended; sign in again.".into()
        }
        GitLabError::Unavailable(detail) => format!("GitLab did not answer ({detail})."),
        GitLabError::Malformed(_) | GitLabError::Rejected(_) => {
            "GitLab sent an unexpected answer.".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn errors_name_their_subject() {
        let error = app_error(GitLabError::NotFound, Subject::Project("acme/web".into()));
        assert_eq!(error.to_string(), "Project acme/web was not found.");
        let error = app_error(GitLabError::Forbidden, Subject::Repository(7));
        assert_eq!(
            error.to_string(),
            "You do not have access to image repository 7."
        );
        let error = app_error(
            GitLabError::RateLimited(Duration::from_millis(10)),
            Subject::Projects,
        );
        assert_eq!(error.status(), 429);
    }

    #[test]
    fn every_failure_reads_as_one_sentence() {
        for error in [
            GitLabError::Refused("Protected tag".into()),
            GitLabError::Forbidden,
            GitLabError::NotFound,
            GitLabError::RateLimited(Duration::from_secs(30)),
            GitLabError::Unauthorized,
            GitLabError::Unavailable("HTTP 502".into()),
            GitLabError::Malformed("x".into()),
        ] {
            let text = sentence(&error);
            assert!(text.ends_with('.') || text == "Protected tag", "{text}");
        }
    }
}
