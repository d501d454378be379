use domain::view::GroupListView;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Loaded, Notices, Pager, SearchForm};
use crate::links;
use crate::pages::instance::{use_instance, CurrentViewer};
use crate::pages::use_query_pairs;
use crate::server_fns::groups::list_groups;

/// Groups the user can see, with search and paging.
#[component]
pub fn GroupListPage() -> impl IntoView {
    let instance = use_instance();
    let pairs = use_query_pairs();
    let parsed = Memo::new(move |_| GroupListView::from_pairs(&pairs.get()));
    let view_state = Memo::new(move |_| parsed.get().0);
    let data = Resource::new(
        move || (instance.get(), view_state.get()),
        |(instance, view)| list_groups(instance, view),
    );
    view! {
        <Title text="Groups" />
        <div class="page-head">
            <div>
                <h1>"Groups"</h1>
                <AdminLinks />
            </div>
            {move || {
                view! {
                    <SearchForm
                        action=links::groups(&instance.get())
                        value=view_state.get().search
                        label="Search groups"
                    />
                }
            }}
        </div>
        {move || view! { <Notices notices=parsed.get().1 /> }}
        <Loaded resource=data let:answer>
            {
                let instance = instance.get_untracked();
                let view = view_state.get_untracked();
                match answer {
                    page if page.groups.is_empty() => {
                        view! {
                            <div class="empty-state">
                                {if view.search.is_empty() {
                                    view! { <h2>"You are not a member of any group"</h2> }
                                        .into_any()
                                } else {
                                    view! {
                                        <h2>"No groups match “" {view.search.clone()} "”"</h2>
                                        <p>
                                            <a href=links::groups(&instance)>"Clear the search"</a>
                                        </p>
                                    }
                                        .into_any()
                                }}
                            </div>
                        }
                            .into_any()
                    }
                    page => {
                        let base = links::groups(&instance);
                        let prev = (page.page > 1)
                            .then(|| {
                                format!(
                                    "{base}{}",
                                    GroupListView {
                                        page: page.page - 1,
                                        ..view.clone()
                                    }
                                        .to_query(),
                                )
                            });
                        let next = page
                            .has_next
                            .then(|| {
                                format!(
                                    "{base}{}",
                                    GroupListView {
                                        page: page.page + 1,
                                        ..view.clone()
                                    }
                                        .to_query(),
                                )
                            });
                        let label = match page.total {
                            Some(total) => {
                                format!(
                                    "Page {} of {}",
                                    page.page,
                                    total.div_ceil(u64::from(page.per_page)).max(1),
                                )
                            }
                            None => format!("Page {}", page.page),
                        };
                        view! {
                            <ul class="card-list groups">
                                {page
                                    .groups
                                    .into_iter()
                                    .map(|g| {
                                        let path = g.full_path.clone();
                                        let description = g
                                            .description
                                            .clone()
                                            .filter(|d| !d.is_empty())
                                            .map(|d| view! { <p class="description">{d}</p> });
                                        view! {
                                            <li class="card" data-group=g.full_path.clone()>
                                                <a
                                                    class="card-title"
                                                    href=links::group(&instance, &g.full_path)
                                                >
                                                    {g.name.clone()}
                                                </a>
                                                <span class="muted path">{path}</span>
                                                <span class="badge">{g.visibility.clone()}</span>
                                                {description}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <Pager prev next label />
                        }
                            .into_any()
                    }
                }
            }
        </Loaded>
    }
}

/// For an instance administrator: the policies of every project.
#[component]
fn AdminLinks() -> impl IntoView {
    let instance = use_instance();
    let viewer = use_context::<CurrentViewer>();
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let admin = match viewer {
                    Some(CurrentViewer(viewer)) => viewer.await.is_ok_and(|v| v.is_admin),
                    None => false,
                };
                admin
                    .then(|| {
                        view! {
                            <p class="muted">
                                "You are an administrator: "
                                <a href=links::instance_policies(
                                    &instance.get_untracked(),
                                )>"cleanup policies of every project"</a>
                            </p>
                        }
                    })
            })}
        </Suspense>
    }
}
