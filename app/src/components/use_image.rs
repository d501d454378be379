use domain::pull::{ImageLocation, PullCommands, PullTarget};
use leptos::prelude::*;

use super::CopyButton;
use crate::links;

/// One command or snippet with its copy button.
#[component]
pub fn Snippet(
    /// What it is, for the heading and the copy button.
    #[prop(into)]
    what: String,
    #[prop(into)] text: String,
    /// A test id for the `<code>`.
    #[prop(into, optional)]
    id: String,
) -> impl IntoView {
    view! {
        <div class="snippet">
            <div class="snippet-head">
                <span>{capitalized(&what)}</span>
                <CopyButton text=text.clone() what=what />
            </div>
            <pre>
                <code data-testid=id>{text}</code>
            </pre>
        </div>
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "Use this image": logins, pulls with Docker, Podman, crane and skopeo, and Kubernetes with
/// `imagePullSecrets`, for a repository (`tag` none) or one tag. Readable without JavaScript.
#[component]
pub fn UseImage(
    instance: String,
    /// GitLab's `location` of the repository (`host/path`).
    location: String,
    project_path: String,
    tag: Option<String>,
    digest: Option<String>,
) -> impl IntoView {
    let Ok(parsed) = ImageLocation::parse(&location) else {
        return view! {
            <section class="panel" aria-labelledby="use-title">
                <h2 id="use-title">"Use this image"</h2>
                <p class="muted">
                    "GitLab gave this image no location we can build commands from: "
                    <code>{location}</code>
                </p>
            </section>
        }
        .into_any();
    };
    let target = PullTarget {
        location: parsed.clone(),
        tag,
        digest,
    };
    let c = PullCommands::new(&target, &project_path);
    let credentials = links::credentials(
        &instance,
        "project",
        &project_path,
        Some(&target.reference()),
    );
    let host = parsed.host().to_string();
    view! {
        <section class="panel use-image" aria-labelledby="use-title">
            <h2 id="use-title">"Use this image"</h2>
            <p class="muted">
                "Registry " <code data-testid="registry-host">{host}</code>
                ". Logging in needs a token with " <code>"read_registry"</code> ": "
                <a href=credentials data-testid="credentials-link">
                    "create pull credentials or build the formats from yours"
                </a> "."
            </p>
            <Snippet what="docker login" text=c.docker_login id="use-docker-login" />
            <Snippet what="pull command by tag" text=c.docker_pull id="pull-by-tag" />
            {c
                .docker_pull_pinned
                .map(|pinned| {
                    view! {
                        <Snippet what="pull command by digest" text=pinned id="pull-by-digest" />
                    }
                })}
            <details>
                <summary>"Podman, crane, skopeo"</summary>
                <Snippet what="podman pull" text=c.podman_pull id="use-podman" />
                <Snippet what="crane pull" text=c.crane_pull id="use-crane" />
                <Snippet what="skopeo copy" text=c.skopeo_copy id="use-skopeo" />
            </details>
            <details>
                <summary>"Kubernetes (Secret " <code>{c.secret_name.clone()}</code> ")"</summary>
                <Snippet what="kubectl run" text=c.kubectl_run id="use-kubectl-run" />
                <Snippet what="pod manifest" text=c.pod_manifest id="use-pod" />
            </details>
        </section>
    }
    .into_any()
}
