use leptos::either::Either;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{ErrorView, LoadingRows};
use crate::error::AppError;

/// How every page shows what it loads: placeholder rows until the first answer; on a new
/// answer (the URL changed) the current content stays until the next one is ready
/// (`Transition`, no flash of placeholders); a failure as [`ErrorView`], which also sets the
/// server-rendered page's status; the answer through `children`, called in the reactive
/// scope of the view it makes. The children read other signals untracked: the resource is
/// what the content follows.
#[component]
pub fn Loaded<T, V, F>(
    /// The page's data, as a server function answers it.
    resource: Resource<Result<T, AppError>>,
    /// Renders the answer.
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=|| {
            view! { <LoadingRows /> }
        }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => Either::Left(children(value)),
                        Err(error) => Either::Right(view! { <ErrorView error /> }),
                    }
                })
            }}
        </Transition>
    }
}
