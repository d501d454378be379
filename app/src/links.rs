//! Our own page URLs (never GitLab's: the server's GitLab client builds those).

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// Characters escaped inside one path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

fn segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// A GitLab full path (`group/sub/project`) as URL path segments, each encoded.
fn full_path(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(segment)
        .collect::<Vec<_>>()
        .join("/")
}

/// The project list of an instance.
pub fn projects(instance: &str) -> String {
    format!("/i/{}", segment(instance))
}

/// The group list of an instance.
pub fn groups(instance: &str) -> String {
    format!("/i/{}/groups", segment(instance))
}

/// A project's image repositories.
pub fn project(instance: &str, path: &str) -> String {
    format!("/i/{}/projects/{}", segment(instance), full_path(path))
}

/// A project's storage across its repositories.
pub fn project_storage(instance: &str, path: &str) -> String {
    format!("/i/{}/storage/{}", segment(instance), full_path(path))
}

/// A group's image repositories.
pub fn group(instance: &str, path: &str) -> String {
    format!("/i/{}/groups/{}", segment(instance), full_path(path))
}

/// A project's or group's pull credentials (`owner` is `project` or `group`); `image` names
/// the image the formats are for, when the page was opened from one.
pub fn credentials(instance: &str, owner: &str, path: &str, image: Option<&str>) -> String {
    let collection = if owner == "group" {
        "groups"
    } else {
        "projects"
    };
    let mut url = format!(
        "/i/{}/credentials/{collection}/{}",
        segment(instance),
        full_path(path)
    );
    if let Some(image) = image {
        url.push_str("?image=");
        url.push_str(&utf8_percent_encode(image, QUERY_VALUE).to_string());
    }
    url
}

/// The instance's registry health.
pub fn instance_health(instance: &str) -> String {
    format!("/i/{}/health", segment(instance))
}

/// Characters escaped in a query value.
const QUERY_VALUE: &AsciiSet = &SEGMENT.add(b'&').add(b'=').add(b'+').add(b':').add(b'@');

/// An image repository's tag list.
pub fn repository(instance: &str, id: u64) -> String {
    format!("/i/{}/repositories/{id}", segment(instance))
}

/// One tag's detail page.
pub fn tag(instance: &str, repository_id: u64, name: &str) -> String {
    format!(
        "/i/{}/repositories/{repository_id}/tags/{}",
        segment(instance),
        segment(name)
    )
}

/// Two tags of a repository compared (`a` and `b` in the query).
pub fn compare(instance: &str, repository_id: u64, a: &str, b: &str) -> String {
    format!(
        "{}{}",
        compare_page(instance, repository_id),
        domain::query::build(&[("a", a.to_string()), ("b", b.to_string())])
    )
}

/// The comparison page without tags chosen (its form fills `a` and `b`).
pub fn compare_page(instance: &str, repository_id: u64) -> String {
    format!(
        "/i/{}/repositories/{repository_id}/compare",
        segment(instance)
    )
}

/// A project's cleanup policy editor.
pub fn cleanup(instance: &str, project_path: &str) -> String {
    format!(
        "/i/{}/cleanup/{}",
        segment(instance),
        full_path(project_path)
    )
}

/// The cleanup policies of a group's projects, side by side.
pub fn group_policies(instance: &str, group_path: &str) -> String {
    format!(
        "/i/{}/policies/groups/{}",
        segment(instance),
        full_path(group_path)
    )
}

/// The review of applying a standard policy to chosen projects of a group.
pub fn apply_standard(instance: &str, group_path: &str) -> String {
    format!(
        "/i/{}/policies/apply/{}",
        segment(instance),
        full_path(group_path)
    )
}

/// The cleanup policies of every project of an instance (its administrators' page).
pub fn instance_policies(instance: &str) -> String {
    format!("/i/{}/policies", segment(instance))
}

/// The JSON API's answer for a group's policies, or the instance's (`group_path`: `None`),
/// for the page's view (`query`), as JSON or CSV.
pub fn policies_api(instance: &str, group_path: Option<&str>, query: &str, csv: bool) -> String {
    let mut url = match group_path {
        Some(group) => format!(
            "/api/v1/{}/groups/{}/policies",
            segment(instance),
            utf8_percent_encode(group.trim_matches('/'), QUERY_VALUE)
        ),
        None => format!("/api/v1/{}/policies", segment(instance)),
    };
    let mut query = query.trim_start_matches('?').to_string();
    if csv {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("format=csv");
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }
    url
}

/// Starts the OAuth sign-in for an instance, coming back to `return_to` afterwards.
pub fn sign_in(instance: &str, return_to: &str) -> String {
    format!(
        "/auth/login?instance={}&return_to={}",
        domain::query::encode_value(instance),
        domain::query::encode_value(return_to)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_per_segment() {
        assert_eq!(project("demo", "acme/web"), "/i/demo/projects/acme/web");
        assert_eq!(
            project("my gl", "a b/c?d"),
            "/i/my%20gl/projects/a%20b/c%3Fd"
        );
        assert_eq!(group("demo", "/acme/"), "/i/demo/groups/acme");
        assert_eq!(repository("demo", 3), "/i/demo/repositories/3");
        assert_eq!(tag("demo", 3, "v1.2"), "/i/demo/repositories/3/tags/v1.2");
        assert_eq!(
            sign_in("demo", "/i/demo?q=a b"),
            "/auth/login?instance=demo&return_to=/i/demo%3Fq%3Da%20b"
        );
    }
}
