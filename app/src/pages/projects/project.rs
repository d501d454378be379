use domain::format;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Loaded, Notices, Pager, RepositoryTable, SearchForm};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::{
    repository_page_links, use_repository_list_state, RepositoryListState, RepositoryPageLinks,
};
use crate::server_fns::projects::project_repositories;

/// A project's container image repositories: search, sort, paging, all in the URL.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let instance = use_instance();
    let RepositoryListState {
        path: project_path,
        parsed,
        view: view_state,
    } = use_repository_list_state();
    let data = Resource::new(
        move || (instance.get(), project_path.get(), view_state.get()),
        |(instance, path, view)| project_repositories(instance, path, view),
    );
    view! {
        // try_get: the meta context may read the title after the route was disposed.
        <Title text=move || project_path.try_get().unwrap_or_default() />
        {move || view! { <Notices notices=parsed.get().1 /> }}
        <Loaded resource=data let:answer>
            {
                let instance = instance.get_untracked();
                let view = view_state.get_untracked();
                let (project, page) = answer;
                let base = links::project(&instance, &project.full_path);
                let RepositoryPageLinks { keep, prev, next } = repository_page_links(
                    &base,
                    &view,
                    &page,
                );
                view! {
                    <Breadcrumbs instance=instance.clone() path=project.full_path.clone() />
                    <div class="page-head">
                        <div>
                            <h1>{project.name.clone()}</h1>
                            <p class="muted">
                                <span class="badge">{project.visibility.clone()}</span>
                                " Your role: "
                                <strong>{project.access.label()}</strong>
                                " · "
                                <a
                                    href=links::project_storage(&instance, &project.full_path)
                                    data-testid="project-storage-link"
                                >
                                    "Storage"
                                </a>
                                " · "
                                <a href=links::cleanup(
                                    &instance,
                                    &project.full_path,
                                )>"Cleanup policy"</a>
                                " · "
                                <a href=format!(
                                    "{}#rules-title",
                                    links::cleanup(&instance, &project.full_path),
                                )>"Protection rules"</a>
                                " · "
                                <a href=project.web_url.clone() rel="external noopener">
                                    "Open in GitLab ↗"
                                </a>
                            </p>
                        </div>
                        <SearchForm
                            action=base.clone()
                            value=view.search.clone()
                            label="Filter images by name"
                            keep
                        />
                    </div>
                    {if page.repositories.is_empty() {
                        view! {
                            <div class="empty-state">
                                {if view.search.is_empty() {
                                    view! {
                                        <h2>"No container images in this project yet"</h2>
                                        <p>"Push an image to see it here, for example:"</p>
                                        <pre>
                                            <code>
                                                {format!(
                                                    "docker push <registry>/{}:latest",
                                                    project.full_path,
                                                )}
                                            </code>
                                        </pre>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <h2>"No images match “" {view.search.clone()} "”"</h2>
                                        <p>
                                            <a href=base.clone()>"Clear the filter"</a>
                                        </p>
                                    }
                                        .into_any()
                                }}
                            </div>
                        }
                            .into_any()
                    } else {
                        view! {
                            <p class="summary">
                                {format::plural(
                                    page.total.unwrap_or(0),
                                    "image repository",
                                    "image repositories",
                                )} " in this project"
                            </p>
                            <RepositoryTable
                                repositories=page.repositories
                                now=page.now
                                view_state=view.clone()
                                base=base.clone()
                                instance=instance.clone()
                            />
                            <Pager prev next label=view.sort.label() />
                        }
                            .into_any()
                    }}
                }
            }
        </Loaded>
    }
}

/// Links to each namespace of a full path (`acme / platform / api`).
#[component]
pub fn Breadcrumbs(instance: String, path: String) -> impl IntoView {
    let segments: Vec<&str> = path.split('/').collect();
    let count = segments.len();
    let items = segments
        .iter()
        .enumerate()
        .map(|(i, segment)| {
            let prefix = segments[..=i].join("/");
            let last = i + 1 == count;
            let href = links::group(&instance, &prefix);
            if last {
                view! { <li aria-current="page">{segment.to_string()}</li> }.into_any()
            } else {
                view! {
                    <li>
                        <a href=href>{segment.to_string()}</a>
                    </li>
                }
                .into_any()
            }
        })
        .collect_view();
    view! {
        <nav aria-label="Breadcrumb" class="breadcrumbs">
            <ol>
                <li>
                    <a href=links::projects(&instance)>"Projects"</a>
                </li>
                {items}
            </ol>
        </nav>
    }
}
