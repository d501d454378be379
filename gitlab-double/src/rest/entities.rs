//! JSON shapes of GitLab's REST entities (the subset the double serves).

use serde_json::{json, Value};

use crate::clock;
use crate::model::{
    access, ExpirationPolicy, Group, Namespace, Project, Repository, TagView, User, World,
};

pub(crate) fn user_basic(user: &User, origin: &str) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "state": user.state,
        "locked": false,
        "avatar_url": super::avatar_url(origin, &user.username),
        "web_url": format!("{origin}/{}", user.username),
    })
}

pub(crate) fn user_full(user: &User, origin: &str) -> Value {
    let mut v = user_basic(user, origin);
    if let Some(map) = v.as_object_mut() {
        map.insert("bio".into(), json!(""));
        map.insert("location".into(), json!(""));
        map.insert("public_email".into(), Value::Null);
        map.insert("email".into(), json!(user.email));
        map.insert("commit_email".into(), json!(user.email));
        map.insert("is_admin".into(), json!(user.admin));
        map.insert("can_create_group".into(), json!(true));
        map.insert("can_create_project".into(), json!(true));
        map.insert("two_factor_enabled".into(), json!(false));
        map.insert("external".into(), json!(false));
        map.insert("private_profile".into(), json!(false));
    }
    v
}

pub(crate) fn namespace(world: &World, project: &Project, origin: &str) -> Value {
    match project.namespace {
        Namespace::Group(id) => match world.group(id) {
            Some(g) => json!({
                "id": g.id,
                "name": g.name,
                "path": g.path,
                "kind": "group",
                "full_path": g.full_path,
                "parent_id": g.parent_id,
                "avatar_url": Value::Null,
                "web_url": format!("{origin}/groups/{}", g.full_path),
            }),
            None => Value::Null,
        },
        Namespace::User(id) => match world.user(id) {
            Some(u) => json!({
                "id": u.id,
                "name": u.name,
                "path": u.username,
                "kind": "user",
                "full_path": u.username,
                "parent_id": Value::Null,
                "avatar_url": super::avatar_url(origin, &u.username),
                "web_url": format!("{origin}/{}", u.username),
            }),
            None => Value::Null,
        },
    }
}

pub(crate) fn policy(p: &ExpirationPolicy) -> Value {
    json!({
        "cadence": p.cadence,
        "enabled": p.enabled,
        "keep_n": p.keep_n,
        "older_than": p.older_than,
        "name_regex": p.name_regex,
        "name_regex_keep": p.name_regex_keep,
        "next_run_at": p.next_run_at.map(clock::rest),
    })
}

/// `simple=true` projects.
pub(crate) fn project_simple(world: &World, p: &Project, origin: &str) -> Value {
    // SSH clone URLs carry the host name only.
    let host = url::Url::parse(origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".to_owned());
    json!({
        "id": p.id,
        "description": p.description,
        "name": p.name,
        "name_with_namespace": p.name_with_namespace,
        "path": p.path,
        "path_with_namespace": p.path_with_namespace,
        "created_at": clock::rest(p.created_at),
        "default_branch": "main",
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": format!("git@{host}:{}.git", p.path_with_namespace),
        "http_url_to_repo": format!("{origin}/{}.git", p.path_with_namespace),
        "web_url": format!("{origin}/{}", p.path_with_namespace),
        "readme_url": Value::Null,
        "forks_count": 0,
        "avatar_url": Value::Null,
        "star_count": 0,
        "last_activity_at": clock::rest(p.last_activity_at),
        "namespace": namespace(world, p, origin),
    })
}

pub(crate) fn project_full(
    world: &World,
    p: &Project,
    origin: &str,
    registry_host: &str,
    user: Option<u64>,
    with_permissions: bool,
) -> Value {
    let mut v = project_simple(world, p, origin);
    if let Some(map) = v.as_object_mut() {
        map.insert("visibility".into(), json!(p.visibility.as_str()));
        map.insert("archived".into(), json!(false));
        map.insert("empty_repo".into(), json!(false));
        map.insert(
            "container_registry_image_prefix".into(),
            json!(format!("{registry_host}/{}", p.path_with_namespace)),
        );
        map.insert(
            "container_registry_enabled".into(),
            json!(p.registry_access_level != crate::dataset::RegistryAccessLevel::Disabled),
        );
        map.insert(
            "container_registry_access_level".into(),
            json!(p.registry_access_level.as_str()),
        );
        map.insert("container_expiration_policy".into(), policy(&p.policy));
        map.insert(
            "_links".into(),
            json!({
                "self": format!("{origin}/api/v4/projects/{}", p.id),
                "members": format!("{origin}/api/v4/projects/{}/members", p.id),
            }),
        );
        if with_permissions {
            let direct = world.direct_project_access(user, p);
            let group = match p.namespace {
                Namespace::Group(g) => world.group_access(user, g),
                Namespace::User(_) => access::NONE,
            };
            let level = |l: u8| {
                if l == access::NONE {
                    Value::Null
                } else {
                    json!({ "access_level": l, "notification_level": 3 })
                }
            };
            map.insert(
                "permissions".into(),
                json!({ "project_access": level(direct), "group_access": level(group) }),
            );
        }
    }
    v
}

pub(crate) fn group(g: &Group, origin: &str) -> Value {
    json!({
        "id": g.id,
        "web_url": format!("{origin}/groups/{}", g.full_path),
        "name": g.name,
        "path": g.path,
        "description": g.description,
        "visibility": g.visibility.as_str(),
        "avatar_url": Value::Null,
        "full_name": g.full_name,
        "full_path": g.full_path,
        "created_at": clock::rest(g.created_at),
        "parent_id": g.parent_id,
    })
}

pub(crate) fn location(registry_host: &str, path: &str) -> String {
    format!("{registry_host}/{path}")
}

pub(crate) fn tag(repo: &Repository, name: &str, registry_host: &str) -> Value {
    let path = format!("{}:{name}", repo.path);
    json!({
        "name": name,
        "location": location(registry_host, &path),
        "path": path,
    })
}

pub(crate) fn tag_details(repo: &Repository, view: &TagView, registry_host: &str) -> Value {
    let path = format!("{}:{}", repo.path, view.name);
    json!({
        "name": view.name,
        "path": path,
        "location": location(registry_host, &path),
        "revision": view.revision,
        "short_revision": view.revision.as_ref().map(|r| r.chars().take(9).collect::<String>()),
        "digest": view.digest,
        "created_at": view.created_at.map(clock::rest_tag),
        "total_size": view.total_size,
    })
}

/// Options of the repository entity.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RepositoryOptions {
    pub tags: bool,
    pub tags_count: bool,
    pub size: bool,
}

pub(crate) fn repository(
    repo: &Repository,
    registry_host: &str,
    options: RepositoryOptions,
    metadata_db: bool,
) -> Value {
    let mut v = json!({
        "id": repo.id,
        "name": repo.name,
        "path": repo.path,
        "project_id": repo.project_id,
        "location": location(registry_host, &repo.path),
        "created_at": clock::rest(repo.created_at),
        "cleanup_policy_started_at": repo.expiration_policy_started_at.map(clock::rest),
        "status": repo.status.map(|s| s.as_str()),
    });
    if let Some(map) = v.as_object_mut() {
        if options.tags_count {
            map.insert("tags_count".into(), json!(repo.tags.len()));
        }
        if options.tags {
            let tags: Vec<Value> = repo
                .tags
                .keys()
                .map(|name| tag(repo, name, registry_host))
                .collect();
            map.insert("tags".into(), Value::Array(tags));
        }
        if options.size {
            // Only the metadata database knows the deduplicated size.
            map.insert(
                "size".into(),
                if metadata_db {
                    json!(repo.size)
                } else {
                    Value::Null
                },
            );
        }
    }
    v
}
