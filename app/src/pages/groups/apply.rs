//! Applying a group's standard policy to the projects ticked on its policy page: the review
//! first (what changes and what each policy would delete, project by project), then the
//! group's path typed, then GitLab's answer per project. The review reads without
//! JavaScript; saving needs it, as every change does.

use domain::format;
use domain::governance::apply::{
    ApplyOutcome, ApplyProject, ApplyResult, ApplyReview, ApplyView, Candidate, Comparison, Deletes,
};
use domain::governance::{short, Drift};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{use_hydrated, Loaded, Notices};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::projects::Breadcrumbs;
use crate::pages::{use_path_param, use_query_pairs};
use crate::server_fns::groups::{apply_review_page, ApplyStandard};

/// The review of applying a standard to chosen projects of a group, and the apply.
#[component]
pub fn GroupApplyPage() -> impl IntoView {
    let instance = use_instance();
    let group_path = use_path_param();
    let pairs = use_query_pairs();
    let parsed = Memo::new(move |_| ApplyView::from_pairs(&pairs.get()));
    let view_state = Memo::new(move |_| parsed.get().0);
    let data = Resource::new(
        move || (instance.get(), group_path.get(), view_state.get()),
        |(instance, path, view)| apply_review_page(instance, path, view),
    );
    view! {
        <Title text=move || {
            format!("Apply a standard policy · {}", group_path.try_get().unwrap_or_default())
        } />
        {move || view! { <Notices notices=parsed.get().1 /> }}
        {move || {
            let view = view_state.get();
            match view.applicable() {
                Err(error) => {
                    let back = format!(
                        "{}{}",
                        links::group_policies(&instance.get(), &group_path.get()),
                        view.group_view().to_query(),
                    );
                    view! {
                        <div class="empty-state">
                            <h1>"Nothing to apply yet"</h1>
                            <p>{error.0}</p>
                            <a class="button primary" href=back>
                                "Back to the group's policies"
                            </a>
                        </div>
                    }
                        .into_any()
                }
                Ok(_) => {
                    view! {
                        <Loaded resource=data let:review>
                            {
                                let instance = instance.get_untracked();
                                let view = view_state.get_untracked();
                                view! { <ApplyBody instance view review /> }
                            }
                        </Loaded>
                    }
                        .into_any()
                }
            }
        }}
    }
}

#[component]
fn ApplyBody(instance: String, view: ApplyView, review: ApplyReview) -> impl IntoView {
    let back = format!(
        "{}{}",
        links::group_policies(&instance, &review.group.full_path),
        view.group_view().to_query()
    );
    let standard = &review.standard;
    let (badge, badge_class) = on_off(standard.enabled);
    let changing = review.changing();
    view! {
        <Breadcrumbs instance=instance.clone() path=review.group.full_path.clone() />
        <div class="page-head">
            <div>
                <h1>"Apply a standard policy in " {review.group.name.clone()}</h1>
                <p class="muted">
                    "The standard: " <span class=badge_class>{badge}</span> " " {short(standard)}
                    " · " <a href=back.clone()>"Back to the group's policies"</a>
                </p>
            </div>
        </div>
        <p class="summary" data-testid="apply-summary">
            {review.summary_line()}
        </p>
        <div class="table-wrap">
            <table class="data-table policies-table apply-table">
                <caption class="visually-hidden">
                    "What saving the standard changes in each chosen project"
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"Project"</th>
                        <th scope="col">"Its policy now"</th>
                        <th scope="col">"Saving the standard changes"</th>
                        <th scope="col" class="num">
                            "Its policy deletes"
                        </th>
                        <th scope="col" class="num">
                            "The standard deletes"
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {review
                        .projects
                        .iter()
                        .map(|p| {
                            view! {
                                <ApplyRow
                                    instance=instance.clone()
                                    project=p.clone()
                                    standard_on=review.standard.enabled
                                />
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <p class="muted small">
            "Deletions are what GitLab's scheduled cleanup would remove now, counted like the \
             project's policy page: tags, and bytes freed with each layer counted once across \
             the project. A large repository's layers are read when its storage is asked for; \
             until then its bytes are not counted. A policy that is off deletes nothing until \
             it is turned on."
        </p>
        <ApplyForm instance review back changing view />
    }
}

fn on_off(enabled: bool) -> (&'static str, &'static str) {
    if enabled {
        ("On", "badge success")
    } else {
        ("Off", "badge")
    }
}

#[component]
fn ApplyRow(instance: String, project: ApplyProject, standard_on: bool) -> impl IntoView {
    let role = project
        .access
        .map(|a| a.label().to_string())
        .unwrap_or_else(|| "role unknown".into());
    let head = if project.full_path.is_empty() {
        view! { <strong>{project.label()}</strong> }.into_any()
    } else {
        view! {
            <a href=links::cleanup(&instance, &project.full_path)>
                <strong>{project.full_path.clone()}</strong>
            </a>
        }
        .into_any()
    };
    let cells = match project.candidate {
        Candidate::Eligible(comparison) => {
            view! { <ComparisonCells comparison standard_on /> }.into_any()
        }
        Candidate::Excluded { message, .. } => view! {
            <td colspan="4" data-testid="apply-state">
                <span class="badge warning">"Not applied"</span>
                <div class="muted small">{message}</div>
            </td>
        }
        .into_any(),
        Candidate::Unreadable { message } => view! {
            <td colspan="4" data-testid="apply-state">
                <span class="badge danger">"Not read"</span>
                <div class="muted small">
                    {format!("{message} It is left out; review again to retry.")}
                </div>
            </td>
        }
        .into_any(),
    };
    view! {
        <tr data-project=project.full_path.clone() data-id=project.id>
            <th scope="row">{head} <div class="muted small">{role}</div></th>
            {cells}
        </tr>
    }
}

#[component]
fn ComparisonCells(comparison: Comparison, standard_on: bool) -> impl IntoView {
    let own = &comparison.own;
    let (badge, badge_class) = on_off(own.policy.enabled);
    let changes = match &comparison.drift {
        Drift::Same => view! {
            <span class="badge success">"Nothing"</span>
            <div class="muted small">"Its policy already is the standard; it is left alone."</div>
        }
        .into_any(),
        Drift::Differs { fields } => {
            let labels: Vec<&str> = fields.iter().map(|f| f.label()).collect();
            view! {
                <span class="badge danger">
                    {format::plural(fields.len() as u64, "field", "fields")}
                </span>
                <div class="muted small">{labels.join(", ")}</div>
            }
            .into_any()
        }
        Drift::Unknown => view! {
            <span class="badge">"Every field"</span>
            <div class="muted small">
                {own.notes.iter().map(|n| n.message.clone()).collect::<Vec<_>>().join(" ")}
            </div>
        }
        .into_any(),
    };
    view! {
        <td>
            <span class=badge_class>{badge}</span>
            <div class="muted small">{short(&own.policy)}</div>
        </td>
        <td data-testid="apply-state">{changes}</td>
        <td class="num" data-testid="own-deletes">
            {deletes_text(&comparison.own_deletes, own.policy.enabled)}
        </td>
        <td class="num" data-testid="standard-deletes">
            {deletes_text(&comparison.standard_deletes, standard_on)}
        </td>
    }
}

fn deletes_text(deletes: &Deletes, runs: bool) -> impl IntoView {
    view! {
        {deletes.describe()}
        {(!runs).then(|| view! { <div class="muted small">"Off: not run"</div> })}
    }
}

#[component]
fn ApplyForm(
    instance: String,
    review: ApplyReview,
    back: String,
    changing: usize,
    view: ApplyView,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let typed = RwSignal::new(String::new());
    let apply = ServerAction::<ApplyStandard>::new();
    let pending = apply.pending();
    let group = review.group.full_path.clone();
    let standard_on = review.standard.enabled;
    let matches = {
        let group = group.clone();
        move || typed.get().trim() == group
    };
    let changing_ids: Vec<u64> = review
        .projects
        .iter()
        .filter(|p| p.will_change())
        .map(|p| p.id)
        .collect();
    let here = format!(
        "{}{}",
        links::apply_standard(&instance, &group),
        view.to_query()
    );
    let submit = {
        let (instance, group, matches) = (instance.clone(), group.clone(), matches.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if pending.get_untracked() || !matches() {
                return;
            }
            apply.dispatch(ApplyStandard {
                instance: instance.clone(),
                group_path: group.clone(),
                // Only what the review shows as changing: a project it left out (not read,
                // say) is not saved unseen.
                view: ApplyView {
                    standard: view.standard.clone(),
                    projects: changing_ids.clone(),
                },
                confirm: typed.get_untracked(),
            });
        }
    };
    move || match apply.value().get() {
        Some(Ok(sent)) => {
            // Every chosen project, in the review's order: GitLab's answer where it was
            // asked, the review's verdict where it was not.
            let outcomes = review
                .projects
                .iter()
                .map(|p| {
                    sent.iter()
                        .find(|o| o.id == p.id)
                        .cloned()
                        .unwrap_or_else(|| p.unsent())
                })
                .collect();
            view! { <ApplyReport outcomes back=back.clone() here=here.clone() /> }.into_any()
        }
        _ if changing == 0 => view! {
            <p class="banner" role="status">
                "Nothing to apply: every chosen project already has the standard or is left out."
            </p>
        }
        .into_any(),
        failed => {
            let matches = matches.clone();
            let label = format!(
                "Apply to {}",
                format::plural(changing as u64, "project", "projects")
            );
            view! {
                <form class="apply-form" aria-label="Apply the standard" on:submit=submit.clone()>
                    <label class="field">
                        <span>
                            {if standard_on {
                                "Saving replaces each project's policy with the standard; its \
                                 next scheduled cleanup deletes what the last column says. Type "
                            } else {
                                "Saving replaces each project's policy with the standard, which \
                                 is off: GitLab stops cleaning these projects up. Type "
                            }} <code>{group.clone()}</code> " to apply it:"
                        </span>
                        <input
                            type="text"
                            autocomplete="off"
                            spellcheck="false"
                            data-testid="confirm-apply"
                            prop:value=move || typed.get()
                            on:input=move |ev| typed.set(event_target_value(&ev))
                        />
                    </label>
                    <button
                        type="submit"
                        class="button danger"
                        disabled=move || !hydrated.get() || pending.get() || !matches()
                    >
                        {move || {
                            if pending.get() { "Applying…".to_string() } else { label.clone() }
                        }}
                    </button>
                    {move || {
                        (!hydrated.get())
                            .then(|| {
                                view! {
                                    <p class="muted small">
                                        "Applying needs JavaScript; the review above reads \
                                         without it."
                                    </p>
                                }
                            })
                    }}
                    {failed
                        .and_then(|r| r.err())
                        .map(|e| {
                            view! {
                                <p class="error-text" role="alert">
                                    {e.to_string()}
                                </p>
                            }
                        })}
                </form>
            }
            .into_any()
        }
    }
}

#[component]
fn ApplyReport(outcomes: Vec<ApplyOutcome>, back: String, here: String) -> impl IntoView {
    let saved = outcomes
        .iter()
        .filter(|o| matches!(o.result, ApplyResult::Saved { .. }))
        .count();
    view! {
        <section
            class="apply-report"
            aria-labelledby="apply-report-title"
            data-testid="apply-outcomes"
        >
            <h2 id="apply-report-title" role="status">
                {format!(
                    "GitLab saved the standard in {} of {}",
                    format::count(saved as u64),
                    format::plural(outcomes.len() as u64, "project", "projects"),
                )}
            </h2>
            <ul class="outcomes">
                {outcomes
                    .into_iter()
                    .map(|o| {
                        let class = match o.result {
                            ApplyResult::Saved { .. } => "badge success",
                            ApplyResult::Unchanged => "badge",
                            ApplyResult::Excluded { .. } => "badge warning",
                            ApplyResult::Refused { .. } | ApplyResult::Failed { .. } => {
                                "badge danger"
                            }
                        };
                        let name = o.label();
                        view! {
                            <li data-project=o.full_path.clone()>
                                <strong>{name}</strong>
                                " "
                                <span class=class>{o.result.label()}</span>
                                <div class="muted small">{o.result.message()}</div>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p>
                <a class="button primary" href=back>
                    "Back to the group's policies"
                </a>
                " "
                <a class="button subtle" href=here rel="external">
                    "Review again"
                </a>
            </p>
        </section>
    }
}
