use domain::credentials::{CheckStatus, InstanceHealth};
use leptos::prelude::*;
use leptos_meta::Title;

use super::use_instance;
use crate::components::Loaded;
use crate::server_fns::credentials::load_instance_health;

/// `/i/:instance/health`: is this GitLab's registry there, reachable and set up as users
/// need it? Each finding in words, with whom to ask when it is not.
#[component]
pub fn InstanceHealthPage() -> impl IntoView {
    let instance = use_instance();
    let data = Resource::new(move || instance.get(), load_instance_health);
    view! {
        <Title text="Registry health" />
        <Loaded resource=data let:health>
            <HealthBody health />
        </Loaded>
    }
}

fn status_badge(status: CheckStatus) -> impl IntoView {
    let (class, text) = match status {
        CheckStatus::Ok => ("badge success", "OK"),
        CheckStatus::Warning => ("badge warning", "Warning"),
        CheckStatus::Failed => ("badge danger", "Problem"),
        CheckStatus::Unknown => ("badge", "Unknown"),
    };
    view! { <span class=class>{text}</span> }
}

#[component]
fn HealthBody(health: InstanceHealth) -> impl IntoView {
    let problems = health
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Failed)
        .count();
    let summary = if problems == 0 {
        "The registry looks ready to use.".to_string()
    } else {
        format!(
            "{} found: pulls or pushes may fail.",
            domain::format::plural(problems as u64, "problem", "problems")
        )
    };
    let checks = health
        .checks
        .iter()
        .map(|check| {
            view! {
                <li class="health-check" data-status=format!("{:?}", check.status).to_lowercase()>
                    <h2>{status_badge(check.status)} " " {check.label.clone()}</h2>
                    <p>{check.detail.clone()}</p>
                    {check.advice.clone().map(|a| view! { <p class="muted">{a}</p> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <div class="page-head">
            <div>
                <h1>"Registry health: " {health.label.clone()}</h1>
                <p class="muted">
                    <a href=health.web_url.clone()>{health.web_url.clone()}</a>
                    {health
                        .gitlab_version
                        .clone()
                        .map(|v| {
                            view! {
                                " · GitLab "
                                <span data-testid="gitlab-version">{v}</span>
                            }
                        })}
                    {health
                        .registry_host
                        .clone()
                        .map(|h| {
                            view! {
                                " · registry "
                                <code>{h}</code>
                            }
                        })}
                </p>
                <p role="status" data-testid="health-summary">
                    {summary}
                </p>
            </div>
        </div>
        <ul class="health-checks" data-testid="health-checks">
            {checks}
        </ul>
        <p class="muted small">
            "Checked " {domain::format::relative_time(health.checked_at, health.checked_at)}
            ". Reload to check again."
        </p>
    }
}
