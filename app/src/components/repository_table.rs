use domain::format;
use domain::view::{RepositoryListView, RepositorySort};
use domain::ImageRepository;
use leptos::prelude::*;

use super::CopyButton;
use crate::links;

/// Image repositories as a table with sortable column headers (links, so sorting works
/// without JavaScript and lands in the URL).
#[component]
pub fn RepositoryTable(
    repositories: Vec<ImageRepository>,
    /// Server time of the data, for relative times.
    now: i64,
    /// The current view, to build sort links.
    view_state: RepositoryListView,
    /// Path of the page (without query).
    #[prop(into)]
    base: String,
    #[prop(into)] instance: String,
    /// Show the owning project (group pages).
    #[prop(default = false)]
    show_project: bool,
) -> impl IntoView {
    let header = |label: &'static str, asc: RepositorySort, desc: RepositorySort| {
        let current = view_state.sort;
        let (next, aria) = if current == asc {
            (desc, "ascending")
        } else if current == desc {
            (asc, "descending")
        } else {
            (asc, "none")
        };
        let href = format!("{base}{}", view_state.with_sort(next).to_query());
        let arrow = match aria {
            "ascending" => " ↑",
            "descending" => " ↓",
            _ => "",
        };
        view! {
            <th scope="col" aria-sort=aria>
                <a href=href class="sort-link">
                    {label}
                    {arrow}
                </a>
            </th>
        }
    };
    view! {
        <table class="data-table repositories">
            <caption class="visually-hidden">"Image repositories"</caption>
            <thead>
                <tr>
                    {header("Image", RepositorySort::NameAsc, RepositorySort::NameDesc)}
                    {show_project.then(|| view! { <th scope="col">"Project"</th> })}
                    <th scope="col" class="num">
                        "Tags"
                    </th> <th scope="col" class="num">
                        "Size"
                    </th>
                    {header("Created", RepositorySort::CreatedAsc, RepositorySort::CreatedDesc)}
                    {header("Updated", RepositorySort::UpdatedAsc, RepositorySort::UpdatedDesc)}
                    <th scope="col">"Cleanup"</th>
                </tr>
            </thead>
            <tbody>
                {repositories
                    .into_iter()
                    .map(|repo| {
                        let project_href = links::project(&instance, &repo.project_path);
                        let created = repo.created_at.clone();
                        let updated = repo.updated_at.clone();
                        let status = repo
                            .status
                            .map(|s| view! { <span class="badge danger">{s.label()}</span> });
                        view! {
                            <tr data-repository=repo.path.clone()>
                                <td>
                                    <div class="repo-name">
                                        <a href=links::repository(&instance, repo.id)>
                                            <strong>{repo.display_name().to_string()}</strong>
                                        </a>
                                        {status}
                                    </div>
                                    <div class="repo-location">
                                        <code>{repo.location.clone()}</code>
                                        <CopyButton
                                            text=repo.location.clone()
                                            what=format!("image path {}", repo.location)
                                        />
                                    </div>
                                </td>
                                {show_project
                                    .then(|| {
                                        view! {
                                            <td>
                                                <a href=project_href>{repo.project_path.clone()}</a>
                                            </td>
                                        }
                                    })}
                                <td class="num">
                                    {repo
                                        .tags_count
                                        .map(format::count)
                                        .unwrap_or_else(|| "—".into())}
                                </td>
                                <td
                                    class="num"
                                    title=if repo.size.is_none() {
                                        "GitLab reports sizes only with the metadata database"
                                    } else {
                                        ""
                                    }
                                >
                                    {repo.size.map(format::bytes).unwrap_or_else(|| "—".into())}
                                </td>
                                <td>
                                    <time
                                        datetime=created.clone().unwrap_or_default()
                                        title=created
                                            .as_deref()
                                            .map(format::exact_time)
                                            .unwrap_or_default()
                                    >
                                        {format::relative_timestamp(created.as_deref(), now)}
                                    </time>
                                </td>
                                <td>
                                    <time
                                        datetime=updated.clone().unwrap_or_default()
                                        title=updated
                                            .as_deref()
                                            .map(format::exact_time)
                                            .unwrap_or_default()
                                    >
                                        {format::relative_timestamp(updated.as_deref(), now)}
                                    </time>
                                </td>
                                <td>
                                    <span class="cleanup">{repo.cleanup_status.label()}</span>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
