//! Pull credentials of a project or group: the registry tokens GitLab has (never their
//! values), a wizard that creates one through GitLab and builds every format from its
//! one-time value in the browser, the same formats from a token the user pastes (which never
//! leaves the browser), and revocation with the token's name typed.

use domain::credentials::{
    default_expiry, CredentialForm, CredentialKind, CredentialOwner, CredentialsPage,
    IssuedCredential, RegistryToken, TokenState,
};
use domain::format;
use domain::pull::{
    gitlab_version, ImageLocation, PullTarget, RegistryLogin, JOB_TOKEN_ALLOWLIST_SINCE,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};

use crate::components::{use_hydrated, CopyButton, ErrorView, LoadingRows, Snippet};
use crate::links;
use crate::pages::instance::use_instance;
use crate::pages::use_query_pairs;
use crate::server_fns::credentials::{load_credentials, CreateCredential, RevokeCredential};

/// `/i/:instance/credentials/projects/*path` and `…/groups/*path`.
#[component]
pub fn CredentialsPageView() -> impl IntoView {
    let instance = use_instance();
    let params = use_params_map();
    let location = use_location();
    let owner = Memo::new(move |_| {
        if location.pathname.get().contains("/credentials/groups/") {
            CredentialOwner::Group
        } else {
            CredentialOwner::Project
        }
    });
    let path = Memo::new(move |_| params.read().get("path").unwrap_or_default());
    let pairs = use_query_pairs();
    let image = Memo::new(move |_| {
        pairs
            .get()
            .into_iter()
            .find(|(k, _)| k == "image")
            .map(|(_, v)| v)
    });
    // A revocation answers with the page as it is afterwards; a creation reloads it (the
    // new token joins the list) while the issued panel, owned here, stays.
    let replaced = RwSignal::new(None::<CredentialsPage>);
    let issued = RwSignal::new(None::<IssuedCredential>);
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || (instance.get(), owner.get(), path.get(), version.get()),
        |(instance, owner, path, _)| load_credentials(instance, owner.noun().to_string(), path),
    );
    Effect::new(move |_| {
        if issued.get().is_some() {
            replaced.set(None);
            version.update(|v| *v += 1);
        }
    });
    view! {
        <Title text=move || format!("Pull credentials · {}", path.get()) />
        <Transition fallback=|| {
            view! { <LoadingRows /> }
        }>
            {move || Suspend::new(async move {
                let loaded = data.await;
                match replaced.get().map(Ok).unwrap_or(loaded) {
                    Err(error) => view! { <ErrorView error /> }.into_any(),
                    Ok(page) => {
                        view! {
                            <CredentialsBody
                                instance=instance.get_untracked()
                                page
                                image=image.get_untracked()
                                replaced
                                issued
                            />
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The image the formats name: the one the page was opened from (same registry host),
/// else the project's own image, else an example under the group.
fn pull_target(page: &CredentialsPage, image: Option<&str>) -> Option<PullTarget> {
    let host = page.registry_host.as_deref()?;
    let from_link = image
        .and_then(|i| {
            let (location, tag) = match i.rsplit_once(':') {
                Some((l, t)) if !t.contains('/') => (l, Some(t.to_string())),
                _ => (i, None),
            };
            ImageLocation::parse(location).ok().map(|l| (l, tag))
        })
        .filter(|(l, _)| l.host() == host);
    if let Some((location, tag)) = from_link {
        return Some(PullTarget {
            location,
            tag,
            digest: None,
        });
    }
    let image = page
        .image_prefix
        .clone()
        .unwrap_or_else(|| format!("{host}/{}", page.full_path.to_lowercase()));
    ImageLocation::parse(&image)
        .ok()
        .map(|location| PullTarget {
            location,
            tag: None,
            digest: None,
        })
}

#[component]
fn CredentialsBody(
    instance: String,
    page: CredentialsPage,
    image: Option<String>,
    replaced: RwSignal<Option<CredentialsPage>>,
    issued: RwSignal<Option<IssuedCredential>>,
) -> impl IntoView {
    let target = pull_target(&page, image.as_deref());
    let owner_link = match page.owner {
        CredentialOwner::Project => links::project(&instance, &page.full_path),
        CredentialOwner::Group => links::group(&instance, &page.full_path),
    };
    let allowlist = page
        .gitlab_version
        .as_deref()
        .and_then(gitlab_version)
        .is_some_and(|v| v >= JOB_TOKEN_ALLOWLIST_SINCE);
    let can_manage = page.can_manage();
    let role_note = format!(
        "Your role: {}. Creating and revoking a {}'s registry tokens needs {}.",
        page.access.label(),
        page.owner.noun(),
        page.manager_role.label()
    );
    let secret_name = domain::pull::secret_name(&page.full_path);
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <a href=owner_link>{page.full_path.clone()}</a>
            " › Pull credentials"
        </nav>
        <div class="page-head">
            <div>
                <h1>"Pull credentials"</h1>
                <p class="muted">
                    {page.owner.noun()} " " <strong>{page.full_path.clone()}</strong>
                    {page
                        .registry_host
                        .clone()
                        .map(|h| {
                            view! {
                                " · registry "
                                <code data-testid="credentials-host">{h}</code>
                            }
                        })}
                </p>
                <p class="muted" data-testid="role-note">
                    {role_note}
                </p>
            </div>
        </div>
        {view! { <TokenList instance=instance.clone() page=page.clone() replaced /> }.into_any()}
        {match target.clone() {
            None => {
                view! {
                    <section class="panel">
                        <h2>"Formats"</h2>
                        <p class="notice">
                            "GitLab reports no registry address for this " {page.owner.noun()}
                            ", so no login can be built. Check the instance page: "
                            <a href=links::instance_health(&instance)>"registry health"</a> "."
                        </p>
                    </section>
                }
                    .into_any()
            }
            Some(target) => {
                let host = target.location.host().to_string();
                let issued_target = target.clone();
                view! {
                    {if can_manage {
                        view! { <CreateForm instance=instance.clone() page=page.clone() issued /> }
                            .into_any()
                    } else {
                        view! {
                            <section class="panel" aria-labelledby="create-title">
                                <h2 id="create-title">"Create a token"</h2>
                                <p class="notice" data-testid="role-needed">
                                    "Creating a deploy token or an access token for "
                                    {page.full_path.clone()}
                                    " needs the "
                                    <strong>{page.manager_role.label()}</strong>
                                    " role; you are "
                                    {page.access.label()}
                                    ". Ask a "
                                    {page.manager_role.label()}
                                    " for a token with read_registry, or paste one you have below."
                                </p>
                            </section>
                        }
                            .into_any()
                    }}
                    {move || {
                        issued
                            .get()
                            .map(|issued| {
                                let login = RegistryLogin::new(
                                    &host,
                                    &issued.username,
                                    issued.secret.expose(),
                                );
                                view! {
                                    <IssuedView
                                        issued
                                        login
                                        target=issued_target.clone()
                                        secret_name=secret_name.clone()
                                        allowlist
                                    />
                                }
                            })
                    }}
                    {view! {
                        <PasteForm
                            host=target.location.host().to_string()
                            target=target.clone()
                            secret_name=domain::pull::secret_name(&page.full_path)
                            allowlist
                        />
                    }
                        .into_any()}
                }
                    .into_any()
            }
        }}
    }
}

fn token_state(token: &RegistryToken, now: i64) -> impl IntoView {
    match token.state(now) {
        TokenState::Active => view! { <span class="badge">"active"</span> }.into_any(),
        TokenState::ExpiringSoon(days) => view! {
            <span class="badge warning">
                {format!("expires in {}", format::plural(days as u64, "day", "days"))}
            </span>
        }
        .into_any(),
        TokenState::Expired => view! { <span class="badge danger">"expired"</span> }.into_any(),
        TokenState::Revoked => view! { <span class="badge danger">"revoked"</span> }.into_any(),
    }
}

#[component]
fn TokenList(
    instance: String,
    page: CredentialsPage,
    replaced: RwSignal<Option<CredentialsPage>>,
) -> impl IntoView {
    if !page.listed {
        return view! {
            <section class="panel" aria-labelledby="tokens-title">
                <h2 id="tokens-title">"Registry tokens"</h2>
                <p class="muted" data-testid="tokens-hidden">
                    "GitLab lists a "
                    {page.owner.noun()}
                    "'s tokens to "
                    {page.manager_role.label()}
                    "s only."
                </p>
            </section>
        }
        .into_any();
    }
    let now = page.now;
    let can_manage = page.can_manage();
    let other = page.other_tokens;
    let rows = page
        .tokens
        .iter()
        .map(|token| {
            let scopes = token.scopes.join(", ");
            let role = token.access_level.map(|r| r.label()).unwrap_or("—");
            let expires = token
                .expires_at
                .map(|at| format::relative_time(at, now))
                .unwrap_or_else(|| "never".to_string());
            let used = token
                .last_used_at
                .map(|at| format::relative_time(at, now))
                .unwrap_or_else(|| {
                    if token.kind == CredentialKind::AccessToken {
                        "never".into()
                    } else {
                        "not reported".into()
                    }
                });
            let revocable = can_manage && token.state(now) != TokenState::Revoked;
            view! {
                <tr data-token=token.name.clone()>
                    <td>{token.name.clone()}</td>
                    <td>{token.kind.label()}</td>
                    <td>
                        <code>{token.username.clone().unwrap_or_else(|| "any".into())}</code>
                    </td>
                    <td>{scopes}</td>
                    <td>{role}</td>
                    <td>{expires} " " {token_state(token, now)}</td>
                    <td>{used}</td>
                    <td>
                        {revocable
                            .then(|| {
                                view! {
                                    <RevokeButton
                                        instance=instance.clone()
                                        page=page.clone()
                                        token=token.clone()
                                        replaced
                                    />
                                }
                            })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="tokens-title">
            <h2 id="tokens-title">"Registry tokens"</h2>
            {if page.tokens.is_empty() {
                view! {
                    <p class="muted" data-testid="tokens-empty">
                        "No token of this "
                        {page.owner.noun()}
                        " can use the registry yet."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <table class="data-table" data-testid="tokens">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Kind"</th>
                                <th scope="col">"Username"</th>
                                <th scope="col">"Scopes"</th>
                                <th scope="col">"Role"</th>
                                <th scope="col">"Expires"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col">
                                    <span class="visually-hidden">"Actions"</span>
                                </th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                }
                    .into_any()
            }}
            {(other > 0)
                .then(|| {
                    view! {
                        <p class="muted small">
                            {format::plural(other, "other token", "other tokens")}
                            " cannot use the registry (other scopes) and are not shown."
                        </p>
                    }
                })}
        </section>
    }
    .into_any()
}

#[component]
fn RevokeButton(
    instance: String,
    page: CredentialsPage,
    token: RegistryToken,
    replaced: RwSignal<Option<CredentialsPage>>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let open = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let revoke = ServerAction::<RevokeCredential>::new();
    let name = token.name.clone();
    let matches = {
        let name = name.clone();
        move || typed.get().trim() == name
    };
    Effect::new(move |_| {
        if let Some(Ok(fresh)) = revoke.value().get() {
            replaced.set(Some(fresh));
        }
    });
    let kind = match token.kind {
        CredentialKind::DeployToken => "deploy_token",
        CredentialKind::AccessToken => "access_token",
    };
    let submit = {
        let (instance, path, owner) = (
            instance.clone(),
            page.full_path.clone(),
            page.owner.noun().to_string(),
        );
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            revoke.dispatch(RevokeCredential {
                instance: instance.clone(),
                owner: owner.clone(),
                path: path.clone(),
                kind: kind.to_string(),
                token_id: token.id,
                confirm_name: typed.get_untracked(),
            });
        }
    };
    let label = format!("Revoke {name}");
    view! {
        <button
            type="button"
            class="button danger-outline small"
            aria-label=label.clone()
            disabled=move || !hydrated.get()
            on:click=move |_| open.update(|o| *o = !*o)
        >
            "Revoke…"
        </button>
        <Show when=move || open.get()>
            <form class="revoke-form" on:submit=submit.clone()>
                <label>
                    "Anything using " <strong>{name.clone()}</strong>
                    " stops working. Type its name to revoke it:"
                    <input
                        type="text"
                        autocomplete="off"
                        aria-label=format!("Name of the token to revoke ({})", name.clone())
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                </label>
                <button
                    type="submit"
                    class="button danger"
                    disabled={
                        let m = matches.clone();
                        move || !m() || revoke.pending().get()
                    }
                >
                    {move || if revoke.pending().get() { "Revoking…" } else { "Revoke token" }}
                </button>
                {move || {
                    revoke
                        .value()
                        .get()
                        .and_then(|r| r.err())
                        .map(|e| {
                            view! {
                                <p class="error" role="alert">
                                    {e.to_string()}
                                </p>
                            }
                        })
                }}
            </form>
        </Show>
    }
}

#[component]
fn CreateForm(
    instance: String,
    page: CredentialsPage,
    issued: RwSignal<Option<IssuedCredential>>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let create = ServerAction::<CreateCredential>::new();
    let kind = RwSignal::new("deploy_token".to_string());
    let name = RwSignal::new(String::new());
    let expires = RwSignal::new(default_expiry(page.now));
    let write = RwSignal::new(false);
    let role = RwSignal::new("reporter".to_string());
    Effect::new(move |_| {
        if let Some(Ok(created)) = create.value().get() {
            issued.set(Some(created));
        }
    });
    let submit = {
        let (instance, path, owner) = (
            instance.clone(),
            page.full_path.clone(),
            page.owner.noun().to_string(),
        );
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            issued.set(None);
            create.dispatch(CreateCredential {
                instance: instance.clone(),
                owner: owner.clone(),
                path: path.clone(),
                form: CredentialForm {
                    kind: kind.get_untracked(),
                    name: name.get_untracked(),
                    expires_on: expires.get_untracked(),
                    write: write.get_untracked(),
                    role: role.get_untracked(),
                },
            });
        }
    };
    let is_access = move || kind.get() == "access_token";
    view! {
        <section class="panel" aria-labelledby="create-title">
            <h2 id="create-title">"Create a token"</h2>
            <p class="muted">
                "GitLab shows the token once. It appears below, in your browser only; the \
                    dashboard does not keep it."
            </p>
            <noscript>
                <p class="notice">
                    "Creating a token needs JavaScript, so that its value stays in your browser."
                </p>
            </noscript>
            <form class="credential-form" on:submit=submit>
                <fieldset>
                    <legend>"Kind"</legend>
                    <label>
                        <input
                            type="radio"
                            name="kind"
                            value="deploy_token"
                            prop:checked=move || !is_access()
                            on:change=move |_| kind.set("deploy_token".into())
                        />
                        " Deploy token (its own username; no user behind it)"
                    </label>
                    <label>
                        <input
                            type="radio"
                            name="kind"
                            value="access_token"
                            prop:checked=is_access
                            on:change=move |_| kind.set("access_token".into())
                        />
                        " "
                        {format!(
                            "{} access token (a bot user with a role)",
                            if page.owner == CredentialOwner::Group { "Group" } else { "Project" },
                        )}
                    </label>
                </fieldset>
                <label>
                    "Name"
                    <input
                        type="text"
                        name="name"
                        required
                        maxlength="255"
                        placeholder="k8s-production-pull"
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Expires on"
                    <input
                        type="date"
                        name="expires_on"
                        prop:value=move || expires.get()
                        on:input=move |ev| expires.set(event_target_value(&ev))
                    />
                    <span class="muted small">
                        {move || {
                            if is_access() {
                                "Required; at most a year."
                            } else {
                                "Leave empty for a token that never expires."
                            }
                        }}
                    </span>
                </label>
                <label>
                    <input
                        type="checkbox"
                        name="write"
                        prop:checked=move || write.get()
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            write.set(on);
                            if on && role.get_untracked() == "reporter" {
                                role.set("developer".into());
                            }
                        }
                    />
                    " Also push (write_registry)"
                </label>
                <Show when=is_access>
                    <label>
                        "Role"
                        <select
                            name="role"
                            prop:value=move || role.get()
                            on:change=move |ev| role.set(event_target_value(&ev))
                        >
                            <option value="reporter">"Reporter (pull)"</option>
                            <option value="developer">"Developer (pull and push)"</option>
                            <option value="maintainer">"Maintainer"</option>
                        </select>
                    </label>
                </Show>
                <button
                    type="submit"
                    class="button primary"
                    disabled=move || !hydrated.get() || create.pending().get()
                >
                    {move || if create.pending().get() { "Creating…" } else { "Create token" }}
                </button>
                {move || {
                    create
                        .value()
                        .get()
                        .and_then(|r| r.err())
                        .map(|e| {
                            view! {
                                <p class="error" role="alert" data-testid="create-error">
                                    {e.to_string()}
                                </p>
                            }
                        })
                }}
            </form>
        </section>
    }
}

#[component]
fn IssuedView(
    issued: IssuedCredential,
    login: Result<RegistryLogin, domain::input::InputError>,
    target: PullTarget,
    secret_name: String,
    allowlist: bool,
) -> impl IntoView {
    let secret = issued.secret.expose().to_string();
    view! {
        <section class="panel issued" aria-labelledby="issued-title" data-testid="issued">
            <h2 id="issued-title">"Token created: " {issued.token.name.clone()}</h2>
            <p class="banner warning" role="status">
                "Copy the token now. GitLab will not show it again and the dashboard does not keep \
                    it: leaving this page forgets it."
            </p>
            <dl class="facts">
                <dt>"Username"</dt>
                <dd>
                    <code data-testid="issued-username">{issued.username.clone()}</code>
                    <CopyButton text=issued.username.clone() what="username" />
                </dd>
                <dt>"Token"</dt>
                <dd>
                    <code data-testid="issued-token">{secret.clone()}</code>
                    <CopyButton text=secret what="token" />
                </dd>
            </dl>
            {match login {
                Ok(login) => view! { <Formats login target secret_name allowlist /> }.into_any(),
                Err(error) => {
                    view! {
                        <p class="error" role="alert">
                            {error.0}
                        </p>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// Formats from a username and token the user pastes; nothing is sent anywhere.
#[component]
fn PasteForm(
    host: String,
    target: PullTarget,
    secret_name: String,
    allowlist: bool,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let username = RwSignal::new(String::new());
    let token = RwSignal::new(String::new());
    let built = RwSignal::new(None::<Result<RegistryLogin, domain::input::InputError>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        built.set(Some(RegistryLogin::new(
            &host,
            &username.get_untracked(),
            &token.get_untracked(),
        )));
    };
    view! {
        <section class="panel" aria-labelledby="paste-title">
            <h2 id="paste-title">"Build the formats from a token you have"</h2>
            <p class="muted">
                "The token stays in this browser tab: nothing is sent to the dashboard or to \
                    GitLab."
            </p>
            <form class="credential-form" on:submit=submit>
                <label>
                    "Username (a deploy token's username; any name for an access token)"
                    <input
                        type="text"
                        autocomplete="off"
                        prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Token"
                    <input
                        type="password"
                        autocomplete="off"
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" class="button" disabled=move || !hydrated.get()>
                    "Build formats"
                </button>
            </form>
            {move || {
                built
                    .get()
                    .map(|b| match b {
                        Ok(login) => {
                            view! {
                                <Formats
                                    login
                                    target=target.clone()
                                    secret_name=secret_name.clone()
                                    allowlist
                                />
                            }
                                .into_any()
                        }
                        Err(error) => {
                            view! {
                                <p class="error" role="alert">
                                    {error.0}
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
        </section>
    }
}

/// Every format of one credential for one image.
#[component]
fn Formats(
    login: RegistryLogin,
    target: PullTarget,
    secret_name: String,
    allowlist: bool,
) -> impl IntoView {
    let f = login.formats(&target, &secret_name);
    let host = login.host().to_string();
    view! {
        <div class="formats" data-testid="formats">
            <h3>"Log in"</h3>
            <Snippet what="docker login" text=f.docker_login id="fmt-docker-login" />
            <details>
                <summary>"Podman, crane, skopeo"</summary>
                <Snippet what="podman login" text=f.podman_login id="fmt-podman-login" />
                <Snippet what="crane auth login" text=f.crane_login id="fmt-crane-login" />
                <Snippet what="skopeo login" text=f.skopeo_login id="fmt-skopeo-login" />
            </details>
            <h3>"Kubernetes"</h3>
            <Snippet what="Kubernetes secret" text=f.secret_manifest id="fmt-k8s-secret" />
            <Snippet
                what="kubectl create secret"
                text=f.kubectl_create_secret
                id="fmt-kubectl-secret"
            />
            <h3>"GitLab CI/CD"</h3>
            <p class="muted">
                "Add a masked CI/CD variable " <code>"DOCKER_AUTH_CONFIG"</code>
                " with this value to the project that pulls the image; GitLab Runner then pulls \
                    job images with it."
            </p>
            <Snippet
                what="DOCKER_AUTH_CONFIG value"
                text=f.docker_auth_config
                id="fmt-docker-auth-config"
            />
            <Snippet what="job using the image" text=f.ci_job id="fmt-ci-job" />
            <details>
                <summary>"Write it to ~/.docker/config.json or Kaniko's"</summary>
                <Snippet
                    what="docker config from the variable"
                    text=f.ci_docker_config
                    id="fmt-ci-docker-config"
                />
                <Snippet what="Kaniko job" text=f.ci_kaniko id="fmt-ci-kaniko" />
            </details>
            {allowlist
                .then(|| {
                    view! {
                        <p class="muted" data-testid="job-token-alternative">
                            "Within this GitLab, another project's jobs can pull without any \
                                token: add that project to this one's job token allowlist \
                                (Settings › CI/CD › Job token permissions). Its jobs then log in \
                                with their own "
                            <code>"CI_JOB_TOKEN"</code>
                            ":"
                        </p>
                        <Snippet
                            what="login with the job token"
                            text=domain::pull::ci_job_token_login(&host)
                            id="fmt-job-token"
                        />
                    }
                })}
        </div>
    }
}
