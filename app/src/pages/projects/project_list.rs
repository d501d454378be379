use domain::format;
use domain::view::ProjectListView;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Loaded, Notices, Pager, SearchForm};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::use_query_pairs;
use crate::server_fns::projects::list_projects;

/// Projects the user can see that have container images, with search and paging.
#[component]
pub fn ProjectListPage() -> impl IntoView {
    let instance = use_instance();
    let pairs = use_query_pairs();
    let parsed = Memo::new(move |_| ProjectListView::from_pairs(&pairs.get()));
    let view_state = Memo::new(move |_| parsed.get().0);
    let data = Resource::new(
        move || (instance.get(), view_state.get()),
        |(instance, view)| list_projects(instance, view),
    );
    view! {
        <Title text="Projects" />
        <div class="page-head">
            <h1>"Projects with container images"</h1>
            {move || {
                view! {
                    <SearchForm
                        action=links::projects(&instance.get())
                        value=view_state.get().search
                        label="Search projects"
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
                    page if page.projects.is_empty() => {
                        view! {
                            <div class="empty-state">
                                {if view.search.is_empty() {
                                    view! {
                                        <h2>"No projects with container images yet"</h2>
                                        <p>
                                            "Projects appear here once an image is pushed to their \
                                                container registry."
                                        </p>
                                    }
                                        .into_any()
                                } else {
                                    let clear = links::projects(&instance);
                                    view! {
                                        <h2>"No projects match “" {view.search.clone()} "”"</h2>
                                        <p>
                                            <a href=clear>"Clear the search"</a>
                                        </p>
                                    }
                                        .into_any()
                                }}
                                {(page.without_images > 0)
                                    .then(|| {
                                        let hidden = format::plural(
                                            page.without_images,
                                            "project",
                                            "projects",
                                        );
                                        view! {
                                            <p class="muted">{hidden} " without images hidden."</p>
                                        }
                                    })}
                            </div>
                        }
                            .into_any()
                    }
                    page => {
                        let total_pages = page.total.div_ceil(u64::from(page.per_page)).max(1);
                        let base = links::projects(&instance);
                        let prev = (page.page > 1)
                            .then(|| {
                                format!(
                                    "{base}{}",
                                    ProjectListView {
                                        page: page.page - 1,
                                        ..view.clone()
                                    }
                                        .to_query(),
                                )
                            });
                        let next = (u64::from(page.page) < total_pages)
                            .then(|| {
                                format!(
                                    "{base}{}",
                                    ProjectListView {
                                        page: page.page + 1,
                                        ..view.clone()
                                    }
                                        .to_query(),
                                )
                            });
                        view! {
                            <p class="summary">
                                {format::plural(page.total, "project", "projects")} " with images"
                                {(page.without_images > 0)
                                    .then(|| {
                                        format!(
                                            " · {} without images hidden",
                                            format::count(page.without_images),
                                        )
                                    })}
                                {page
                                    .truncated
                                    .then_some(" · only your first projects were scanned")}
                            </p>
                            <ul class="card-list projects">
                                {page
                                    .projects
                                    .into_iter()
                                    .map(|p| {
                                        let path = p.full_path.clone();
                                        let description = p
                                            .description
                                            .clone()
                                            .filter(|d| !d.is_empty())
                                            .map(|d| view! { <p class="description">{d}</p> });
                                        view! {
                                            <li class="card" data-project=p.full_path.clone()>
                                                <a
                                                    class="card-title"
                                                    href=links::project(&instance, &p.full_path)
                                                >
                                                    {p.name.clone()}
                                                </a>
                                                <span class="muted path">{path}</span>
                                                <span class="badge">{p.visibility.clone()}</span>
                                                <span class="badge info">
                                                    {format::plural(
                                                        p.image_repositories,
                                                        "image repository",
                                                        "image repositories",
                                                    )}
                                                </span>
                                                {description}
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <Pager
                                prev
                                next
                                label=format!("Page {} of {}", page.page, total_pages)
                            />
                        }
                            .into_any()
                    }
                }
            }
        </Loaded>
    }
}
