//! Sign-in with GitLab (OAuth 2 authorization code + PKCE), the session records that hold
//! the tokens server-side, and token refresh.

pub mod records;
pub mod return_to;
pub mod routes;
pub mod tokens;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl, RevocationUrl,
    TokenUrl,
};

/// An OAuth client for one GitLab instance with authorize, token and revoke endpoints set.
pub type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet>;

/// Builds the OAuth client for a GitLab base URL.
pub fn oauth_client(
    base: &url::Url,
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
) -> Result<OAuthClient, url::ParseError> {
    let root = base.as_str().trim_end_matches('/');
    Ok(BasicClient::new(ClientId::new(client_id.to_string()))
        .set_client_secret(ClientSecret::new(client_secret.to_string()))
        .set_auth_uri(AuthUrl::new(format!("{root}/oauth/authorize"))?)
        .set_token_uri(TokenUrl::new(format!("{root}/oauth/token"))?)
        .set_revocation_url(RevocationUrl::new(format!("{root}/oauth/revoke"))?)
        .set_redirect_uri(RedirectUrl::new(redirect_uri.to_string())?))
}
