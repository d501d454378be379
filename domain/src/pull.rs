//! Pulling an image from elsewhere: the commands and configuration files a registry credential
//! goes into, built from the image's location and (when the user has one) a username and
//! token. Pure functions, so the browser builds every format itself: a secret shown once
//! never travels back to the server to be formatted.
//!
//! The formats are the ones the tools read, and each is checked by decoding it back:
//! - Docker's `config.json`: `{"auths": {"<host[:port]>": {"auth": base64("user:token")}}}`.
//!   `DOCKER_AUTH_CONFIG` (GitLab Runner, a CI/CD variable) is that JSON as it is.
//! - A Kubernetes `Secret` of type `kubernetes.io/dockerconfigjson` holds Docker's JSON,
//!   base64-encoded, under `data[".dockerconfigjson"]`. Its JSON is exactly what
//!   `kubectl create secret docker-registry` writes: each entry has `username`, `password`
//!   and `auth`, so the manifest and the `kubectl … --dry-run=client -o yaml` command agree.
//! - Logins read the token from standard input (`--password-stdin`), never from the command
//!   line, where `ps` and the shell's history would keep it.
//!
//! Values that reach a shell are quoted with [`shell_quote`]; values that reach YAML are
//! either checked to be plain (hosts, image paths, DNS names, base64) or single-quoted.

use crate::input::{quoted, InputError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Longest username accepted (GitLab's usernames and deploy-token usernames are far shorter).
pub const MAX_USERNAME_LEN: usize = 255;
/// Longest token accepted (GitLab's tokens are under 100 characters).
pub const MAX_TOKEN_LEN: usize = 1_024;
/// Longest Kubernetes object name we suggest (a DNS label: 63 characters).
pub const MAX_SECRET_NAME_LEN: usize = 63;
/// The shell line that puts a pasted token into `$REGISTRY_TOKEN` without echoing it or
/// writing it to the shell's history (bash and zsh).
pub const READ_TOKEN: &str = "read -rs REGISTRY_TOKEN  # paste the token, then press Enter";

/// Where an image lives: `host[:port]/path`, as GitLab's `location` gives it without a tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageLocation {
    host: String,
    path: String,
}

impl ImageLocation {
    /// Splits GitLab's `location` (`registry.example.com:5050/group/project/image`, with or
    /// without `:tag`) into the registry host and the image path; refuses anything else.
    pub fn parse(location: &str) -> Result<Self, InputError> {
        let location = location.trim();
        let Some((host, path)) = location.split_once('/') else {
            return Err(InputError(format!(
                "{} is not an image location (host/path).",
                quoted(location)
            )));
        };
        // Docker's rule: the first component is a registry host only when it has a `.` or a
        // `:`, or is `localhost`; `acme/web` is an image on Docker Hub, not on a GitLab.
        if !(host.contains(['.', ':']) || host == "localhost") {
            return Err(InputError(format!(
                "{} does not start with a registry host.",
                quoted(location)
            )));
        }
        let host = RegistryHost::parse(host)?;
        // A trailing `:tag` is not part of the image's path.
        let path = match path.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => path,
            _ => path,
        };
        let path_ok = !path.is_empty()
            && path.split('/').all(|segment| {
                !segment.is_empty()
                    && segment.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            });
        if !path_ok {
            return Err(InputError(format!(
                "{} is not an image path.",
                quoted(path)
            )));
        }
        Ok(ImageLocation {
            host: host.0,
            path: path.to_string(),
        })
    }

    /// The registry host users log in to (`registry.example.com:5050`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `host/path`, the image without a tag.
    pub fn image(&self) -> String {
        format!("{}/{}", self.host, self.path)
    }

    /// The image's last path segment, a name for a container.
    pub fn short_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A registry host as users type it after `docker login`: `name[:port]`, no scheme, no path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryHost(String);

impl RegistryHost {
    pub fn parse(raw: &str) -> Result<Self, InputError> {
        let (name, port) = match raw.rsplit_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (raw, None),
        };
        let name_ok = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
        if name_ok && port_ok {
            Ok(RegistryHost(raw.to_ascii_lowercase()))
        } else {
            Err(InputError(format!(
                "{} is not a registry host (name or name:port).",
                quoted(raw)
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The image a page offers to pull: by tag, by digest, or the repository as such.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullTarget {
    pub location: ImageLocation,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl PullTarget {
    /// `host/path:tag` (or `@digest`, or the bare image, which tools read as `:latest`).
    pub fn reference(&self) -> String {
        let image = self.location.image();
        match (&self.tag, &self.digest) {
            (Some(tag), _) => format!("{image}:{tag}"),
            (None, Some(digest)) => format!("{image}@{digest}"),
            (None, None) => image,
        }
    }

    /// `host/path@sha256:…`, when the digest is known.
    pub fn pinned(&self) -> Option<String> {
        let digest = self.digest.as_ref()?;
        Some(format!("{}@{digest}", self.location.image()))
    }
}

/// The commands and snippets a page shows without any credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullCommands {
    /// `docker login host` (it asks for the username and token).
    pub docker_login: String,
    pub docker_pull: String,
    /// By digest: immutable, what a deployment should name.
    pub docker_pull_pinned: Option<String>,
    pub podman_pull: String,
    /// `crane pull` into a tarball.
    pub crane_pull: String,
    /// `skopeo copy` into an OCI archive.
    pub skopeo_copy: String,
    /// `kubectl run` with `imagePullSecrets`.
    pub kubectl_run: String,
    /// A Pod manifest with `imagePullSecrets`.
    pub pod_manifest: String,
    /// The Secret's suggested name.
    pub secret_name: String,
}

impl PullCommands {
    /// `project_path` names the Secret (`acme/web` → `acme-web-registry`).
    pub fn new(target: &PullTarget, project_path: &str) -> Self {
        let reference = target.pinned().unwrap_or_else(|| target.reference());
        let shown = target.reference();
        let secret = secret_name(project_path);
        let container = dns_label(target.location.short_name(), "image");
        let host = target.location.host();
        let archive = format!("{container}.tar");
        PullCommands {
            docker_login: format!("docker login {host}"),
            docker_pull: format!("docker pull {shown}"),
            docker_pull_pinned: target.pinned().map(|r| format!("docker pull {r}")),
            podman_pull: format!("podman pull {shown}"),
            crane_pull: format!("crane pull {shown} {archive}"),
            skopeo_copy: format!("skopeo copy docker://{shown} oci-archive:{archive}"),
            kubectl_run: format!(
                "kubectl run {container} --image={reference} \\\n  \
                    --overrides='{{\"spec\":{{\"imagePullSecrets\":[{{\"name\":\"{secret}\"}}]}}}}'"
            ),
            pod_manifest: format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {container}\nspec:\n  \
                    containers:\n    - name: {container}\n      image: {reference}\n  \
                    imagePullSecrets:\n    - name: {secret}\n"
            ),
            secret_name: secret,
        }
    }
}

/// A DNS-valid (RFC 1123 label) name for the pull Secret, from the project's path:
/// `Acme/Web_App` → `acme-web-app-registry`.
pub fn secret_name(project_path: &str) -> String {
    const SUFFIX: &str = "-registry";
    let stem = dns_label(project_path, "gitlab");
    let stem = truncate_label(&stem, MAX_SECRET_NAME_LEN - SUFFIX.len());
    format!("{stem}{SUFFIX}")
}

/// Lower case, every run of other characters one `-`, no `-` at either end; `fallback` when
/// nothing is left.
fn dns_label(text: &str, fallback: &str) -> String {
    let mut label = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            label.push(c);
        } else if !label.is_empty() && !label.ends_with('-') {
            label.push('-');
        }
    }
    let label = label.trim_end_matches('-');
    let label = truncate_label(label, MAX_SECRET_NAME_LEN);
    if label.is_empty() {
        fallback.to_string()
    } else {
        label
    }
}

fn truncate_label(label: &str, max: usize) -> String {
    // ASCII only by construction, so byte slicing is safe.
    let cut = &label[..label.len().min(max)];
    cut.trim_end_matches('-').to_string()
}

/// Whether `name` is a valid DNS label (what Kubernetes wants of a Secret's name).
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SECRET_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Quotes `text` for a POSIX shell: bare when every character is safe, else single-quoted.
pub fn shell_quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// A registry credential: a username and its token. The token is shown and formatted in the
/// browser only; `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryLogin {
    host: RegistryHost,
    username: String,
    token: String,
}

impl std::fmt::Debug for RegistryLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryLogin")
            .field("host", &self.host)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// One entry of Docker's `config.json` `auths`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerAuth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// base64 of `username:password`.
    pub auth: String,
}

/// Docker's `config.json` (the part registries use).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DockerConfig {
    pub auths: BTreeMap<String, DockerAuth>,
}

/// Every format a credential goes into, for one image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialFormats {
    /// `read -rs` then `docker login … --password-stdin`.
    pub docker_login: String,
    pub podman_login: String,
    pub crane_login: String,
    pub skopeo_login: String,
    /// The Secret manifest (`kubectl apply -f`).
    pub secret_manifest: String,
    /// The same Secret through `kubectl create secret docker-registry --dry-run=client -o yaml`.
    pub kubectl_create_secret: String,
    /// The value of a `DOCKER_AUTH_CONFIG` CI/CD variable.
    pub docker_auth_config: String,
    /// CI script lines that write `DOCKER_AUTH_CONFIG` to `~/.docker/config.json`.
    pub ci_docker_config: String,
    /// A Kaniko job that writes it to `/kaniko/.docker/config.json`.
    pub ci_kaniko: String,
    /// A job of another project whose image is this one (with `DOCKER_AUTH_CONFIG` set).
    pub ci_job: String,
}

impl RegistryLogin {
    /// Checks a username and token as a user typed or pasted them.
    pub fn new(host: &str, username: &str, token: &str) -> Result<Self, InputError> {
        let host = RegistryHost::parse(host)?;
        let username = username.trim();
        let token = token.trim();
        if username.is_empty() {
            return Err(InputError("The username is empty.".into()));
        }
        if username.chars().count() > MAX_USERNAME_LEN {
            return Err(InputError(format!(
                "The username is longer than {MAX_USERNAME_LEN} characters."
            )));
        }
        if username.contains(':')
            || username
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(InputError(
                "A username cannot contain “:”, spaces or control characters.".into(),
            ));
        }
        if token.is_empty() {
            return Err(InputError("The token is empty.".into()));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(InputError(format!(
                "The token is longer than {MAX_TOKEN_LEN} characters; paste only the token."
            )));
        }
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InputError(
                "A token cannot contain spaces or line breaks; paste only the token.".into(),
            ));
        }
        Ok(RegistryLogin {
            host,
            username: username.to_string(),
            token: token.to_string(),
        })
    }

    pub fn host(&self) -> &str {
        self.host.as_str()
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// base64 of `username:token`, the `auth` field.
    pub fn basic_auth(&self) -> String {
        STANDARD.encode(format!("{}:{}", self.username, self.token))
    }

    /// Docker's `config.json` with `auth` only (GitLab's documented `DOCKER_AUTH_CONFIG`).
    pub fn docker_auth_config(&self) -> String {
        self.config_json(false)
    }

    /// Docker's `config.json` as `kubectl create secret docker-registry` writes it.
    pub fn dockerconfigjson(&self) -> String {
        self.config_json(true)
    }

    fn config_json(&self, with_user: bool) -> String {
        let entry = DockerAuth {
            username: with_user.then(|| self.username.clone()),
            password: with_user.then(|| self.token.clone()),
            auth: self.basic_auth(),
        };
        let config = DockerConfig {
            auths: BTreeMap::from([(self.host().to_string(), entry)]),
        };
        // A map of strings always serialises.
        serde_json::to_string(&config).unwrap_or_default()
    }

    /// Every format, for pulling `target` into a cluster or a job; `secret` names the
    /// Kubernetes Secret.
    pub fn formats(&self, target: &PullTarget, secret: &str) -> CredentialFormats {
        let host = self.host();
        let user = shell_quote(&self.username);
        let login = |tool: &str| {
            format!(
                "{READ_TOKEN}\nprintf '%s\\n' \"$REGISTRY_TOKEN\" | {tool} {host} --username \
                    {user} --password-stdin"
            )
        };
        let image = target.reference();
        CredentialFormats {
            docker_login: login("docker login"),
            podman_login: login("podman login"),
            crane_login: login("crane auth login"),
            skopeo_login: login("skopeo login"),
            secret_manifest: format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {secret}\ntype: \
                    kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
                STANDARD.encode(self.dockerconfigjson())
            ),
            kubectl_create_secret: format!(
                "{READ_TOKEN}\nkubectl create secret docker-registry {secret} \\\n  \
                    --docker-server={host} \\\n  --docker-username={user} \\\n  \
                    --docker-password=\"$REGISTRY_TOKEN\" \\\n  --dry-run=client -o yaml"
            ),
            docker_auth_config: self.docker_auth_config(),
            ci_docker_config: "mkdir -p ~/.docker\nprintf '%s' \"$DOCKER_AUTH_CONFIG\" > \
                ~/.docker/config.json"
                .to_string(),
            ci_kaniko: format!(
                "build:\n  image:\n    name: gcr.io/kaniko-project/executor:debug\n    entrypoint: \
                    [\"\"]\n  script:\n    - mkdir -p /kaniko/.docker\n    - printf '%s' \
                    \"$DOCKER_AUTH_CONFIG\" > /kaniko/.docker/config.json\n    - /kaniko/executor \
                    --context \"$CI_PROJECT_DIR\" --destination \
                    \"$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA\"\n# FROM {image} in the Dockerfile \
                    now pulls with this credential.\n"
            ),
            ci_job: ci_job(target),
        }
    }
}

/// A `.gitlab-ci.yml` job of another project that runs in this image. GitLab Runner pulls it
/// with `DOCKER_AUTH_CONFIG` (a CI/CD variable) or, when this project allows the other one in
/// its job token allowlist, with the job's own `CI_JOB_TOKEN` and no variable at all.
pub fn ci_job(target: &PullTarget) -> String {
    let image = target.pinned().unwrap_or_else(|| target.reference());
    let name = dns_label(target.location.short_name(), "image");
    format!("use-{name}:\n  image: {image}\n  script:\n    - echo \"running in {image}\"\n")
}

/// `docker login` inside a job with the job token (the allowlist alternative).
pub fn ci_job_token_login(host: &str) -> String {
    format!(
        "echo \"$CI_JOB_TOKEN\" | docker login {host} --username gitlab-ci-token --password-stdin"
    )
}

/// The GitLab version that has a project's inbound job token allowlist ("Authorized groups and
/// projects"), which lets another project's jobs pull with `CI_JOB_TOKEN`.
pub const JOB_TOKEN_ALLOWLIST_SINCE: (u32, u32) = (15, 9);

/// `major.minor` of a GitLab version string (`17.11.0-ee`, `16.9.1`).
pub fn gitlab_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn target(tag: Option<&str>, digest: Option<&str>) -> PullTarget {
        PullTarget {
            location: ImageLocation::parse("registry.gitlab.test:5050/acme/web/worker").unwrap(),
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        }
    }

    fn login() -> RegistryLogin {
        RegistryLogin::new(
            "registry.gitlab.test:5050",
            "gitlab+deploy-token-7",
            "gldt-AbC123_xyz",
        )
        .unwrap()
    }

    fn decode(text: &str) -> String {
        String::from_utf8(STANDARD.decode(text).unwrap()).unwrap()
    }

    fn yaml_value<'a>(yaml: &'a str, key: &str) -> &'a str {
        yaml.lines()
            .find_map(|line| line.trim().strip_prefix(&format!("{key}: ")))
            .unwrap()
    }

    #[test]
    fn locations_split_into_host_and_path() {
        let l = ImageLocation::parse("registry.example.com:5050/acme/web:v1.2").unwrap();
        assert_eq!(l.host(), "registry.example.com:5050");
        assert_eq!(l.image(), "registry.example.com:5050/acme/web");
        assert_eq!(l.short_name(), "web");
        for bad in [
            "acme/web",
            "https://registry.example.com/acme",
            "registry.example.com",
            "registry.example.com/Acme",
            "registry.example.com:99999/a",
            "reg istry/a",
        ] {
            assert!(ImageLocation::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_secrets_data_decodes_to_the_user_and_token() {
        let formats = login().formats(&target(Some("v1"), None), "acme-web-registry");
        let data = yaml_value(&formats.secret_manifest, ".dockerconfigjson");
        let config: DockerConfig = serde_json::from_str(&decode(data)).unwrap();
        let entry = &config.auths["registry.gitlab.test:5050"];
        assert_eq!(config.auths.len(), 1);
        assert_eq!(decode(&entry.auth), "gitlab+deploy-token-7:gldt-AbC123_xyz");
        assert_eq!(entry.username.as_deref(), Some("gitlab+deploy-token-7"));
        assert_eq!(entry.password.as_deref(), Some("gldt-AbC123_xyz"));
        assert_eq!(
            yaml_value(&formats.secret_manifest, "type"),
            "kubernetes.io/dockerconfigjson"
        );
        assert_eq!(
            yaml_value(&formats.secret_manifest, "name"),
            "acme-web-registry"
        );
    }

    #[test]
    fn the_secret_is_what_kubectl_writes() {
        // kubectl's DockerConfigJSON: {"auths":{server:{"username","password","auth"}}}, in
        // that key order, no email when none is given.
        assert_eq!(
            login().dockerconfigjson(),
            concat!(
                r#"{"auths":{"registry.gitlab.test:5050":{"username":"gitlab+deploy-token-7","#,
                r#""password":"gldt-AbC123_xyz","#,
                r#""auth":"Z2l0bGFiK2RlcGxveS10b2tlbi03OmdsZHQtQWJDMTIzX3h5eg=="}}}"#,
            )
        );
    }

    #[test]
    fn docker_auth_config_parses_as_dockers_config_json() {
        let value: serde_json::Value = serde_json::from_str(&login().docker_auth_config()).unwrap();
        let auths = value["auths"].as_object().unwrap();
        assert_eq!(auths.len(), 1);
        let entry = auths["registry.gitlab.test:5050"].as_object().unwrap();
        assert_eq!(entry.keys().collect::<Vec<_>>(), ["auth"]);
        assert_eq!(
            decode(entry["auth"].as_str().unwrap()),
            "gitlab+deploy-token-7:gldt-AbC123_xyz"
        );
    }

    #[test]
    fn logins_read_the_token_from_stdin_never_the_command_line() {
        let formats = login().formats(&target(Some("v1"), None), "s");
        for command in [
            &formats.docker_login,
            &formats.podman_login,
            &formats.crane_login,
            &formats.skopeo_login,
            &formats.kubectl_create_secret,
        ] {
            assert!(!command.contains("gldt-AbC123_xyz"), "{command}");
            assert!(command.starts_with(READ_TOKEN), "{command}");
        }
        assert!(formats.docker_login.ends_with(
            "docker login registry.gitlab.test:5050 --username gitlab+deploy-token-7 \
                --password-stdin"
        ));
        assert!(formats
            .kubectl_create_secret
            .contains("--docker-server=registry.gitlab.test:5050"));
    }

    #[test]
    fn ci_snippets_write_the_variable_to_the_config_files() {
        let formats = login().formats(&target(Some("v1"), Some("sha256:ab")), "s");
        assert!(formats
            .ci_docker_config
            .contains("printf '%s' \"$DOCKER_AUTH_CONFIG\" > ~/.docker/config.json"));
        assert!(formats
            .ci_kaniko
            .contains("\"$DOCKER_AUTH_CONFIG\" > /kaniko/.docker/config.json"));
        assert_eq!(
            formats.ci_job,
            "use-worker:\n  image: registry.gitlab.test:5050/acme/web/worker@sha256:ab\n  \
                script:\n    - echo \"running in \
                registry.gitlab.test:5050/acme/web/worker@sha256:ab\"\n"
        );
    }

    #[test]
    fn bad_credentials_are_refused_with_a_reason() {
        let host = "registry.gitlab.test";
        assert!(RegistryLogin::new(host, "", "t").is_err());
        assert!(RegistryLogin::new(host, "a:b", "t").is_err());
        assert!(RegistryLogin::new(host, "user", "").is_err());
        assert!(RegistryLogin::new(host, "user", "two words").is_err());
        assert!(RegistryLogin::new(host, "user", &"x".repeat(MAX_TOKEN_LEN + 1)).is_err());
        assert!(RegistryLogin::new("https://x", "user", "t").is_err());
        // Surrounding whitespace from a paste is dropped, not refused.
        let ok = RegistryLogin::new(host, " user ", " token\n").unwrap();
        assert_eq!(decode(&ok.basic_auth()), "user:token");
        assert!(!format!("{ok:?}").contains("token\""));
    }

    #[test]
    fn commands_without_a_credential() {
        let c = PullCommands::new(&target(Some("v1"), Some("sha256:ab")), "acme/web");
        assert_eq!(c.docker_login, "docker login registry.gitlab.test:5050");
        assert_eq!(
            c.docker_pull,
            "docker pull registry.gitlab.test:5050/acme/web/worker:v1"
        );
        assert_eq!(
            c.docker_pull_pinned.as_deref(),
            Some("docker pull registry.gitlab.test:5050/acme/web/worker@sha256:ab")
        );
        assert_eq!(c.secret_name, "acme-web-registry");
        assert!(c
            .pod_manifest
            .contains("  imagePullSecrets:\n    - name: acme-web-registry\n"));
        assert!(c
            .pod_manifest
            .contains("image: registry.gitlab.test:5050/acme/web/worker@sha256:ab"));
        let overrides = c.kubectl_run.split("--overrides='").nth(1).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(overrides.trim_end_matches('\'')).unwrap();
        assert_eq!(
            json["spec"]["imagePullSecrets"][0]["name"],
            "acme-web-registry"
        );
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(
            shell_quote("gitlab+deploy-token-1"),
            "gitlab+deploy-token-1"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn versions() {
        assert_eq!(gitlab_version("17.11.0-double"), Some((17, 11)));
        assert_eq!(gitlab_version("16.9.1-ee"), Some((16, 9)));
        assert_eq!(gitlab_version("nonsense"), None);
        assert!(gitlab_version("15.10.0").unwrap() >= JOB_TOKEN_ALLOWLIST_SINCE);
    }

    proptest! {
        #[test]
        fn secret_names_are_dns_labels(path in "\\PC{0,300}") {
            let name = secret_name(&path);
            prop_assert!(is_dns_label(&name), "{name:?}");
        }

        #[test]
        fn every_format_decodes_back(
            user in "[A-Za-z0-9+._-]{1,40}",
            token in "[A-Za-z0-9_.~+/=-]{1,80}",
        ) {
            let login = RegistryLogin::new("registry.example.com", &user, &token).unwrap();
            let formats = login.formats(&target(Some("v1"), None), "s");
            let pair = format!("{user}:{token}");
            let data = yaml_value(&formats.secret_manifest, ".dockerconfigjson");
            let config: DockerConfig = serde_json::from_str(&decode(data)).unwrap();
            prop_assert_eq!(decode(&config.auths["registry.example.com"].auth), pair.clone());
            let variable: DockerConfig = serde_json::from_str(&formats.docker_auth_config).unwrap();
            prop_assert_eq!(decode(&variable.auths["registry.example.com"].auth), pair);
        }
    }
}
