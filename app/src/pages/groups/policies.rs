//! A group's cleanup policies side by side, with their drift from a standard typed on the
//! page. Two GET forms keep every choice in the URL: the filters (carrying the standard) and
//! the standard (carrying the filters), so the page reads the same without JavaScript.

use domain::cleanup::{CleanupPolicy, MAX_REGEX_LEN};
use domain::format;
use domain::governance::apply::ApplyView;
use domain::governance::{
    short, Drift, GroupPolicies, GroupPoliciesView, PoliciesSort, PolicyFacts, PolicyRow,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use crate::components::{CadenceOptions, KeepNOptions, Loaded, Notices, OlderThanOptions};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::projects::Breadcrumbs;
use crate::pages::{use_path_param, use_query_pairs};
use crate::server_fns::groups::{group_policy_page, instance_policy_page};

/// The policies of every project of a group and its subgroups.
#[component]
pub fn GroupPoliciesPage() -> impl IntoView {
    let group_path = use_path_param();
    view! { <PoliciesPage group=Some(group_path) /> }
}

/// The policies of every project of the instance (its administrators).
#[component]
pub fn InstancePoliciesPage() -> impl IntoView {
    view! { <PoliciesPage group=None /> }
}

#[component]
fn PoliciesPage(group: Option<Memo<String>>) -> impl IntoView {
    let instance = use_instance();
    let pairs = use_query_pairs();
    let parsed = Memo::new(move |_| GroupPoliciesView::from_pairs(&pairs.get()));
    let view_state = Memo::new(move |_| parsed.get().0);
    let data = Resource::new(
        move || (instance.get(), group.map(|g| g.get()), view_state.get()),
        |(instance, group, view)| async move {
            match group {
                Some(path) => group_policy_page(instance, path, view).await,
                None => instance_policy_page(instance, view).await,
            }
        },
    );
    view! {
        <Title text=move || {
            match group {
                Some(path) => format!("Cleanup policies · {}", path.try_get().unwrap_or_default()),
                None => "Cleanup policies · every project".to_string(),
            }
        } />
        {move || view! { <Notices notices=parsed.get().1 /> }}
        <Loaded resource=data let:answer>
            {
                let instance = instance.get_untracked();
                let view = view_state.get_untracked();
                view! { <PoliciesBody instance view answer /> }
            }
        </Loaded>
    }
}

#[component]
fn PoliciesBody(instance: String, view: GroupPoliciesView, answer: GroupPolicies) -> impl IntoView {
    let group_path = answer.group.as_ref().map(|g| g.full_path.clone());
    let base = match &group_path {
        Some(path) => links::group_policies(&instance, path),
        None => links::instance_policies(&instance),
    };
    let query = view.to_query();
    let csv = links::policies_api(&instance, group_path.as_deref(), &query, true);
    let json = links::policies_api(&instance, group_path.as_deref(), &query, false);
    let exports = view! {
        <a href=csv download="">
            "Download CSV"
        </a>
        " · "
        <a href=json>"JSON"</a>
    };
    let head = match &answer.group {
        Some(group) => view! {
            <Breadcrumbs instance=instance.clone() path=group.full_path.clone() />
            <div class="page-head">
                <div>
                    <h1>"Cleanup policies in " {group.name.clone()}</h1>
                    <p class="muted">
                        "Every project of " <code>{group.full_path.clone()}</code>
                        " and its subgroups · "
                        <a href=links::group(&instance, &group.full_path)>"Images"</a> " · "
                        {exports}
                    </p>
                </div>
            </div>
        }
        .into_any(),
        None => view! {
            <div class="page-head">
                <div>
                    <h1>"Cleanup policies of every project"</h1>
                    <p class="muted">
                        "Every project of this GitLab, as its administrators see it. To apply a \
                         standard, open a group's page. · " {exports}
                    </p>
                </div>
            </div>
        }
        .into_any(),
    };
    let truncated = answer.truncated_at.map(|n| {
        view! {
            <p class="banner warning" role="status">
                {format!(
                    "There are more than {} projects; these are the first {} GitLab lists. An \
                     administrator can raise limits.group_policy_projects.",
                    format::count(u64::from(n)),
                    format::count(u64::from(n)),
                )}
            </p>
        }
    });
    let summary = answer.summary_line();
    let has_standard = answer.standard.is_some();
    // A standard is applied within a group: its path is what the confirmation asks for.
    let choosable = has_standard && group_path.is_some();
    let now = answer.now;
    let rows = answer.rows;
    let filtered = !view.search.is_empty() || view.enabled.is_some() || view.drifting;
    view! {
        {head}
        <StandardForm base=base.clone() view=view.clone() />
        <FilterForm base=base.clone() view=view.clone() />
        {truncated}
        <p class="summary" data-testid="policies-summary">
            {summary}
        </p>
        {group_path
            .as_ref()
            .filter(|_| choosable && !rows.is_empty())
            .map(|path| {
                view! {
                    <ChooseForm action=links::apply_standard(&instance, path) view=view.clone() />
                }
            })}
        {if rows.is_empty() {
            view! {
                <div class="empty-state">
                    <h2>
                        {if filtered {
                            "No project matches these filters"
                        } else {
                            "There are no projects you can see here"
                        }}
                    </h2>
                    {filtered
                        .then(|| {
                            view! {
                                <a
                                    class="button"
                                    href=format!(
                                        "{base}{}",
                                        GroupPoliciesView {
                                            standard: view.standard.clone(),
                                            ..GroupPoliciesView::default()
                                        }
                                            .to_query(),
                                    )
                                >
                                    "Show every project"
                                </a>
                            }
                        })}
                </div>
            }
                .into_any()
        } else {
            view! { <PoliciesTable instance rows has_standard choosable now /> }.into_any()
        }}
    }
}

#[component]
fn PoliciesTable(
    instance: String,
    rows: Vec<PolicyRow>,
    has_standard: bool,
    choosable: bool,
    now: i64,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data-table policies-table">
                <caption class="visually-hidden">
                    "Cleanup policies of the group's projects"
                </caption>
                <thead>
                    <tr>
                        {choosable
                            .then(|| {
                                view! {
                                    <th scope="col">
                                        <span class="visually-hidden">"Choose"</span>
                                    </th>
                                }
                            })} <th scope="col">"Project"</th> <th scope="col">"Policy"</th>
                        <th scope="col">"Next run"</th> <th scope="col" class="num">
                            "Images"
                        </th> <th scope="col" class="num">
                            "Tags"
                        </th> <th scope="col" class="num">
                            "Size"
                        </th> <th scope="col" class="num">
                            "Rules"
                        </th> <th scope="col">"Last cleanups"</th>
                        {has_standard.then(|| view! { <th scope="col">"Standard"</th> })}
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|row| {
                            view! { <PolicyRowView instance=instance.clone() row choosable now /> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn PolicyRowView(instance: String, row: PolicyRow, choosable: bool, now: i64) -> impl IntoView {
    let p = row.project;
    let role = p
        .access
        .map(|a| a.label().to_string())
        .unwrap_or_else(|| "role unknown".into());
    let (badge, badge_class) = match p.policy.enabled() {
        Some(true) => ("On", "badge success"),
        Some(false) => ("Off", "badge"),
        None => ("Not shown", "badge"),
    };
    let rules_text = match &p.policy {
        PolicyFacts::Whole(saved) => short(&saved.policy),
        PolicyFacts::Summary { .. } => "Only Maintainers see the rules".to_string(),
        PolicyFacts::Hidden => "GitLab shows it only to those who read the registry".to_string(),
    };
    let next = p.policy.next_run_at().map(str::to_string);
    let cleanups = &p.cleanups;
    let mut states = Vec::new();
    for (n, label, class) in [
        (cleanups.ongoing, "ongoing", "badge info"),
        (cleanups.scheduled, "scheduled", "badge"),
        (cleanups.unfinished, "unfinished", "badge warning"),
    ] {
        if n > 0 {
            states.push(view! { <span class=class>{format!("{n} {label}")}</span> });
        }
    }
    let last = cleanups.last_started_at.clone().map(|started| {
        format!(
            "{} deleted, {}",
            format::plural(cleanups.deleted_last_time, "tag", "tags"),
            format::relative_timestamp(Some(&started), now)
        )
    });
    let partial = (p.repositories_read < p.repositories).then(|| {
        format!(
            "Counts of the first {} of {} repositories",
            p.repositories_read, p.repositories
        )
    });
    let drift = row.drift.map(|d| {
        let class = match &d {
            Drift::Same => "badge success",
            Drift::Differs { .. } => "badge danger",
            Drift::Unknown => "badge",
        };
        let label = match &d {
            Drift::Same => "Same".to_string(),
            Drift::Differs { fields } => format!("Differs ({})", fields.len()),
            Drift::Unknown => "Unknown".to_string(),
        };
        let detail = match &d {
            Drift::Same => None,
            Drift::Differs { fields } => Some(
                fields
                    .iter()
                    .map(|f| f.label())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Drift::Unknown => Some("Only Maintainers see the rules".to_string()),
        };
        view! {
            <td data-testid="drift" title=d.to_string()>
                <span class=class>{label}</span>
                {detail.map(|text| view! { <div class="muted small">{text}</div> })}
            </td>
        }
    });
    let choose = choosable.then(|| {
        view! {
            <td class="choose">
                <input
                    type="checkbox"
                    name="project"
                    value=p.id.to_string()
                    form="apply-form"
                    aria-label=format!("Choose {}", p.full_path)
                />
            </td>
        }
    });
    view! {
        <tr data-project=p
            .full_path
            .clone()>
            {choose} <th scope="row">
                <a href=links::cleanup(&instance, &p.full_path)>
                    <strong>{p.full_path.clone()}</strong>
                </a>
                <div class="muted small">{role}</div>
            </th> <td>
                <span class=badge_class>{badge}</span>
                <div class="muted small">{rules_text}</div>
            </td>
            <td class="nowrap">
                {match next {
                    Some(at) => {
                        view! {
                            <time datetime=at.clone() title=format::exact_time(&at)>
                                {format::relative_timestamp(Some(&at), now)}
                            </time>
                        }
                            .into_any()
                    }
                    None => view! { <span class="muted">"—"</span> }.into_any(),
                }}
            </td> <td class="num">{format::count(u64::from(p.repositories))}</td>
            <td class="num" title=partial.clone().unwrap_or_default()>
                {format::count(p.tags)}
                {partial
                    .clone()
                    .map(|text| {
                        view! {
                            "+"
                            <span class="visually-hidden">{format!(" ({text})")}</span>
                        }
                    })}
            </td>
            <td
                class="num"
                title=if p.size.is_none() {
                    "GitLab reports sizes only with the metadata database"
                } else {
                    ""
                }
            >
                {p.size.map(format::bytes).unwrap_or_else(|| "—".into())}
            </td>
            <td
                class="num"
                title=if p.protection_rules.is_none() {
                    "Only Maintainers see protection rules"
                } else {
                    ""
                }
            >
                {p.protection_rules.map(|n| n.to_string()).unwrap_or_else(|| "—".into())}
            </td>
            <td>
                {(!states.is_empty()).then(|| view! { <span class="badges">{states}</span> })}
                <div class="muted small">{last.unwrap_or_else(|| "No cleanup yet".into())}</div>
            </td> {drift}
        </tr>
    }
}

/// Navigates to the query of the submitted form once hydrated; an ordinary GET without JS.
/// `canonical` reads the form's query as the target page's view: its canonical query, or
/// `None` when the page will note something (what it cannot use stays in the URL then, and
/// the page says why).
fn submit_to(
    base: String,
    canonical: fn(&[(String, String)]) -> Option<String>,
) -> impl Fn(leptos::ev::SubmitEvent) + Clone {
    let navigate = use_navigate();
    move |ev: leptos::ev::SubmitEvent| {
        let Some(query) = crate::components::form_query(&ev) else {
            return;
        };
        ev.prevent_default();
        let target = canonical(&domain::query::parse(&query)).unwrap_or(format!("?{query}"));
        navigate(&format!("{base}{target}"), Default::default());
    }
}

fn policies_query(pairs: &[(String, String)]) -> Option<String> {
    let (view, notices) = GroupPoliciesView::from_pairs(pairs);
    notices.is_empty().then(|| view.to_query())
}

fn apply_query(pairs: &[(String, String)]) -> Option<String> {
    let (view, notices) = ApplyView::from_pairs(pairs);
    notices.is_empty().then(|| view.to_query())
}

fn hidden(pairs: Vec<(String, String)>) -> impl IntoView {
    pairs
        .into_iter()
        .map(|(name, value)| view! { <input type="hidden" name=name value=value /> })
        .collect_view()
}

/// The GET form the rows' checkboxes belong to (`form="apply-form"`): it carries the
/// standard to the review of applying it.
#[component]
fn ChooseForm(action: String, view: GroupPoliciesView) -> impl IntoView {
    let on_submit = submit_to(action.clone(), apply_query);
    view! {
        <form
            id="apply-form"
            method="get"
            action=action
            class="choose-form"
            aria-label="Apply the standard"
            on:submit=on_submit
        >
            {hidden(view.kept_pairs(true))}
            <span class="muted small">
                "Tick projects, then see what saving the standard there would change and delete."
            </span>
            <button type="submit" class="button">
                "Review saving the standard in the ticked projects"
            </button>
        </form>
    }
}

#[component]
fn FilterForm(base: String, view: GroupPoliciesView) -> impl IntoView {
    let on_submit = submit_to(base.clone(), policies_query);
    let has_standard = view.standard.is_some();
    view! {
        <form
            method="get"
            action=base.clone()
            class="filter-form"
            role="search"
            aria-label="Filter projects"
            on:submit=on_submit
        >
            {hidden(view.kept_pairs(true))}
            <div class="filter-row">
                <label class="field grow">
                    <span>"Project"</span>
                    <input
                        type="search"
                        name="q"
                        value=view.search.clone()
                        placeholder="Part of the project path"
                        maxlength=domain::view::MAX_SEARCH_LEN
                        autocomplete="off"
                    />
                </label>
                <label class="field">
                    <span>"Policy"</span>
                    <select name="policy">
                        <option value="" selected=view.enabled.is_none()>
                            "On or off"
                        </option>
                        <option value="on" selected=view.enabled == Some(true)>
                            "On"
                        </option>
                        <option value="off" selected=view.enabled == Some(false)>
                            "Off"
                        </option>
                    </select>
                </label>
                <label class="field">
                    <span>"Sort"</span>
                    <select name="sort">
                        {PoliciesSort::ALL
                            .into_iter()
                            .map(|s| {
                                view! {
                                    <option value=s.as_param() selected=s == view.sort>
                                        {s.label()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                {has_standard
                    .then(|| {
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    name="drift"
                                    value="1"
                                    checked=view.drifting
                                />
                                " Only projects that differ"
                            </label>
                        }
                    })}
                <button type="submit" class="button primary">
                    "Apply"
                </button>
            </div>
        </form>
    }
}

#[component]
fn StandardForm(base: String, view: GroupPoliciesView) -> impl IntoView {
    let on_submit = submit_to(base.clone(), policies_query);
    let standard = view.standard.clone();
    let shown = standard.clone().unwrap_or(CleanupPolicy {
        enabled: true,
        ..CleanupPolicy::default()
    });
    let clear = standard
        .is_some()
        .then(|| format!("{base}{}", view.without_standard().to_query()));
    view! {
        <details class="standard-policy" open=standard.is_some()>
            <summary>
                {if standard.is_some() {
                    "Standard policy: ".to_string() + &short(&shown)
                } else {
                    "Compare with a standard policy".to_string()
                }}
            </summary>
            <form
                method="get"
                action=base.clone()
                class="filter-form"
                aria-label="Standard policy"
                on:submit=on_submit
            >
                {hidden(view.kept_pairs(false))}
                <div class="filter-row">
                    <label class="field">
                        <span>"Enabled"</span>
                        <select name="std_enabled">
                            <option value="1" selected=shown.enabled>
                                "On"
                            </option>
                            <option value="0" selected=!shown.enabled>
                                "Off"
                            </option>
                        </select>
                    </label>
                    <label class="field">
                        <span>"Runs"</span>
                        <select name="std_cadence">
                            <CadenceOptions selected=shown.cadence />
                        </select>
                    </label>
                    <label class="field">
                        <span>"Keep"</span>
                        <select name="std_keep_n">
                            <KeepNOptions selected=shown.keep_n />
                        </select>
                    </label>
                    <label class="field">
                        <span>"Older than"</span>
                        <select name="std_older_than">
                            <OlderThanOptions selected=shown.older_than />
                        </select>
                    </label>
                </div>
                <div class="filter-row">
                    <label class="field grow">
                        <span>"Delete tags matching"</span>
                        <input
                            type="text"
                            name="std_name_regex"
                            value=shown.name_regex.clone().unwrap_or_default()
                            maxlength=MAX_REGEX_LEN
                            spellcheck="false"
                            autocomplete="off"
                        />
                    </label>
                    <label class="field grow">
                        <span>"Keep tags matching"</span>
                        <input
                            type="text"
                            name="std_name_regex_keep"
                            value=shown.name_regex_keep.clone().unwrap_or_default()
                            maxlength=MAX_REGEX_LEN
                            spellcheck="false"
                            autocomplete="off"
                        />
                    </label>
                </div>
                <div class="filter-actions">
                    <button type="submit" class="button primary">
                        "Compare"
                    </button>
                    {clear
                        .map(|href| {
                            view! {
                                <a class="button subtle" href=href>
                                    "No standard"
                                </a>
                            }
                        })}
                </div>
            </form>
        </details>
    }
}
