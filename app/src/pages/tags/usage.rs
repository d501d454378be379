//! What GitLab says about a repository's tags (`domain::usage`), as the tag pages show it:
//! a badge per tag in use or dead with its reasons, and a line above the list with the
//! repository's counts (links to the `?in_use=1` and `?stale=1` filters) and anything that
//! limits them (still reading, a role that cannot read CI, lists read in part).

use domain::format;
use domain::tags::TagListView;
use domain::usage::{RepositoryUsage, TagUsage, UsageFilter, UsageState, Verdict};
use leptos::prelude::*;

/// A tag's verdict as a badge; its reasons follow as text for screen readers and as the
/// badge's tooltip.
#[component]
pub fn UsageBadge(usage: Option<TagUsage>, now: i64) -> impl IntoView {
    let usage = usage.filter(|u| u.verdict != Verdict::Unknown)?;
    let reasons = usage
        .reasons
        .iter()
        .map(|r| r.sentence(now))
        .collect::<Vec<_>>()
        .join("; ");
    let (class, label) = match usage.verdict {
        Verdict::Dead => ("badge dead", "dead"),
        _ => ("badge in-use", "in use"),
    };
    Some(view! {
        <span class=class title=reasons.clone() data-usage=label>
            {label}
            <span class="visually-hidden">{format!(": {reasons}")}</span>
        </span>
    })
}

/// The line above the tag list: counts with their filters, or why there are none.
#[component]
pub fn UsageLine(state: UsageState, view: TagListView, base: String) -> impl IntoView {
    match state {
        UsageState::NotRead if view.usage.is_some() => view! {
            <p class="usage-line banner warning" role="status" data-testid="usage-line">
                "This dashboard does not read GitLab’s deployments and pipelines, so no tag is \
                known to be in use or dead and this filter keeps none."
            </p>
        }
        .into_any(),
        UsageState::NotRead => ().into_any(),
        UsageState::Reading => view! {
            <p class="usage-line muted" role="status" data-testid="usage-line">
                "Checking GitLab’s deployments, pipelines and branches for the tags in use…"
                <noscript>
                    <meta http-equiv="refresh" content="3" />
                </noscript>
            </p>
        }
        .into_any(),
        UsageState::Failed { message } => view! {
            <p class="usage-line banner warning" role="status" data-testid="usage-line">
                "No tag is marked in use or dead: "
                {message}
            </p>
        }
        .into_any(),
        UsageState::Known { usage } => view! { <KnownLine usage view base /> }.into_any(),
    }
}

#[component]
fn KnownLine(usage: RepositoryUsage, view: TagListView, base: String) -> impl IntoView {
    if usage.coverage.nothing_read() {
        return view! {
            <p class="usage-line muted" role="status" data-testid="usage-line">
                "Your role can’t read this project’s deployments, pipelines or branches, so no \
                tag is marked in use or dead."
            </p>
        }
        .into_any();
    }
    let link = |filter: UsageFilter, count: u64, one: &str, many: &str| {
        let text = format::plural(count, one, many);
        if view.usage == Some(filter) {
            view! { <strong aria-current="true">{text}</strong> }.into_any()
        } else {
            let filtered = TagListView {
                usage: Some(filter),
                page: 1,
                ..view.clone()
            };
            view! { <a href=format!("{base}{}", filtered.to_query())>{text}</a> }.into_any()
        }
    };
    let incomplete = usage.coverage.incomplete();
    let since = usage.pipelines_since;
    view! {
        <p class="usage-line" role="status" data-testid="usage-line">
            "GitLab says: "
            {link(UsageFilter::InUse, usage.in_use, "tag in use", "tags in use")}
            " · "
            {link(UsageFilter::Stale, usage.dead, "dead tag", "dead tags")}
            <span class="muted">
                {format!(
                    " (deployments, open merge requests, branches, releases and pipelines since \
                     {})",
                    format::exact_unix(since),
                )}
            </span>
            {(!incomplete.is_empty())
                .then(|| {
                    view! {
                        <span class="muted">
                            " Read in part: " {incomplete.join(", ")}
                            ". Tags are called dead only when every branch was read."
                        </span>
                    }
                })}
        </p>
    }
    .into_any()
}

/// One tag's verdict on its own page, as a fact: what GitLab says and why.
#[component]
pub fn UsageFact(state: UsageState, name: String, now: i64) -> impl IntoView {
    let said = match state {
        UsageState::NotRead => return ().into_any(),
        UsageState::Reading => {
            "Still reading GitLab’s deployments and pipelines; reload to see.".to_string()
        }
        UsageState::Failed { message } => format!("Could not be read: {message}"),
        UsageState::Known { usage } if usage.coverage.nothing_read() => {
            "Your role can’t read this project’s deployments, pipelines or branches.".to_string()
        }
        UsageState::Known { usage } => match usage.tags.get(&name) {
            Some(u) => {
                let verdict = if u.verdict == Verdict::Dead {
                    "Dead"
                } else {
                    "In use"
                };
                return view! {
                    <dt>"GitLab says"</dt>
                    <dd data-testid="usage-fact">
                        <strong>{verdict}</strong>
                        <ul class="reasons">
                            {u
                                .reasons
                                .iter()
                                .map(|r| view! { <li>{r.sentence(now)}</li> })
                                .collect_view()}
                        </ul>
                    </dd>
                }
                .into_any();
            }
            None => "Nothing: no deployment, open merge request, recent pipeline, branch or \
                     release names it, and nothing says its branch is gone."
                .to_string(),
        },
    };
    view! {
        <dt>"GitLab says"</dt>
        <dd data-testid="usage-fact">{said}</dd>
    }
    .into_any()
}
