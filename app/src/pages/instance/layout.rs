use leptos::prelude::*;
use leptos_router::components::Outlet;
use leptos_router::hooks::use_params_map;

use crate::components::Header;
use crate::server_fns::session::current_viewer;

/// The instance the current page belongs to (from `/i/:instance`).
#[derive(Clone, Copy)]
pub struct CurrentInstance(pub Memo<String>);

/// Reads the current instance; only valid below [`InstanceLayout`].
pub fn use_instance() -> Memo<String> {
    expect_context::<CurrentInstance>().0
}

/// The signed-in user of the instance, as the header reads it (one request per page).
#[derive(Clone, Copy)]
pub struct CurrentViewer(pub Resource<Result<domain::Viewer, crate::error::AppError>>);

/// Chrome around every page of one GitLab instance: header with the user, then the page.
#[component]
pub fn InstanceLayout() -> impl IntoView {
    let params = use_params_map();
    let instance = Memo::new(move |_| params.read().get("instance").unwrap_or_default());
    provide_context(CurrentInstance(instance));
    let viewer = Resource::new(move || instance.get(), current_viewer);
    provide_context(CurrentViewer(viewer));
    view! {
        <Header instance=instance viewer=viewer />
        <main id="main" class="page">
            <Outlet />
        </main>
    }
}
