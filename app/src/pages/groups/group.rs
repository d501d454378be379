use domain::format;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{Loaded, Notices, Pager, RepositoryTable, SearchForm};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::projects::Breadcrumbs;
use crate::pages::{
    repository_page_links, use_repository_list_state, RepositoryListState, RepositoryPageLinks,
};
use crate::server_fns::groups::group_repositories;

/// All image repositories of a group's projects (subgroups included).
#[component]
pub fn GroupPage() -> impl IntoView {
    let instance = use_instance();
    let RepositoryListState {
        path: group_path,
        parsed,
        view: view_state,
    } = use_repository_list_state();
    let data = Resource::new(
        move || (instance.get(), group_path.get(), view_state.get()),
        |(instance, path, view)| group_repositories(instance, path, view),
    );
    view! {
        <Title text=move || group_path.try_get().unwrap_or_default() />
        {move || view! { <Notices notices=parsed.get().1 /> }}
        <Loaded resource=data let:answer>
            {
                let instance = instance.get_untracked();
                let view = view_state.get_untracked();
                let (group, page) = answer;
                let base = links::group(&instance, &group.full_path);
                let RepositoryPageLinks { keep, prev, next } = repository_page_links(
                    &base,
                    &view,
                    &page,
                );
                view! {
                    <Breadcrumbs instance=instance.clone() path=group.full_path.clone() />
                    <div class="page-head">
                        <div>
                            <h1>{group.name.clone()}</h1>
                            <p class="muted">
                                <span class="badge">{group.visibility.clone()}</span>
                                " · "
                                <a href=links::group_policies(
                                    &instance,
                                    &group.full_path,
                                )>"Cleanup policies"</a>
                                " · "
                                <a href=group.web_url.clone() rel="external noopener">
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
                                <h2>
                                    {if view.search.is_empty() {
                                        "No container images in this group yet".to_string()
                                    } else {
                                        format!("No images match “{}”", view.search)
                                    }}
                                </h2>
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
                                )} " in this group"
                            </p>
                            <RepositoryTable
                                repositories=page.repositories
                                now=page.now
                                view_state=view.clone()
                                base=base.clone()
                                instance=instance.clone()
                                show_project=true
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
