//! The rules the seed data and the token endpoints share: which scopes each kind of token
//! may have, what a deploy token's username may be, and what a token belongs to. A leaf:
//! it imports nothing of the double.

/// Scopes of deploy tokens (`DeployToken::AVAILABLE_SCOPES`).
pub(crate) const DEPLOY_TOKEN_SCOPES: &[&str] = &[
    "read_repository",
    "read_registry",
    "write_registry",
    "read_package_registry",
    "write_package_registry",
    "read_virtual_registry",
    "write_virtual_registry",
];

/// Scopes of project and group access tokens (`Gitlab::Auth.resource_bot_scopes`: every
/// non-admin scope except `read_user`; the observability scopes only where observability is on,
/// which the double does not model, and `ai_workflows` never).
pub(crate) const ACCESS_TOKEN_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "create_runner",
    "manage_runner",
    "k8s_proxy",
    "self_rotate",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "read_virtual_registry",
    "write_virtual_registry",
    "ai_features",
];

/// What a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    Project(u64),
    Group(u64),
}

impl Holder {
    /// `project` or `group`, as GitLab's messages spell it.
    pub fn kind(self) -> &'static str {
        match self {
            Holder::Project(_) => "project",
            Holder::Group(_) => "group",
        }
    }

    pub fn id(self) -> u64 {
        match self {
            Holder::Project(id) | Holder::Group(id) => id,
        }
    }
}

/// GitLab's deploy token username format: letters, digits, `_`, `-`, `+`, `.`.
pub(crate) fn valid_deploy_token_username(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '_' | '-'))
}
