//! Container registry protection rules: REST CRUD of repository rules, REST PATCH and GraphQL
//! create/delete of tag rules, GitLab's validations and limits, permissions, and that every other
//! endpoint sees a change at once.

use std::collections::BTreeSet;

use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const NOT_AVAILABLE: &str = "The resource that you are attempting to access does not exist or you \
    don't have permission to perform this action";
const REPOSITORY_RULES: &str = "/api/v4/projects/acme%2Fweb/registry/protection/repository/rules";
const TAG_RULES: &str = "/api/v4/projects/acme%2Fweb/registry/protection/tag/rules";

const CREATE_TAG_RULE: &str = "mutation($input: createContainerProtectionTagRuleInput!) {
    createContainerProtectionTagRule(input: $input) {
      containerProtectionTagRule { id tagNamePattern minimumAccessLevelForPush \
        minimumAccessLevelForDelete }
      errors } }";
const DELETE_TAG_RULE: &str = "mutation($id: ContainerRegistryProtectionTagRuleID!) {
    deleteContainerProtectionTagRule(input: { id: $id }) {
      containerProtectionTagRule { id tagNamePattern minimumAccessLevelForPush \
        minimumAccessLevelForDelete }
      errors } }";
const TAG_NODES: &str = "query($name: String!) {
    containerRepository(id: \"gid://gitlab/ContainerRepository/1\") {
      tags(name: $name, first: 20) { nodes { name
        protection { minimumAccessLevelForPush minimumAccessLevelForDelete }
        userPermissions { destroyContainerRepositoryTag } } } } }";

fn tag_rule_gid(id: u64) -> String {
    format!("gid://gitlab/ContainerRegistry::Protection::TagRule/{id}")
}

/// `…/repository/rules/:id` of acme/web.
fn rule_path(id: &str) -> String {
    format!("{REPOSITORY_RULES}/{id}")
}

/// `createContainerProtectionTagRule` in acme/web: the payload.
async fn create_tag_rule(base: &str, token: &str, input: Value) -> Value {
    let mut input = input;
    input["projectPath"] = json!("acme/web");
    let (status, body) = gql(
        base,
        Some(token),
        CREATE_TAG_RULE,
        json!({ "input": input }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["createContainerProtectionTagRule"].clone()
}

/// The GraphQL node of tag `name` in acme/web's root repository.
async fn tag_node(base: &str, token: &str, name: &str) -> Value {
    let (_, body) = gql(base, Some(token), TAG_NODES, json!({ "name": name })).await;
    let nodes = body["data"]["containerRepository"]["tags"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    nodes
        .into_iter()
        .find(|n| n["name"] == name)
        .unwrap_or_else(|| panic!("no tag {name}"))
}

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

#[tokio::test]
async fn repository_rules_crud_over_rest() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let (status, _, list) = get(base, REPOSITORY_RULES, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([]));

    // JSON body.
    let (status, created) = call_json(
        Method::POST,
        base,
        REPOSITORY_RULES,
        Some(&maria),
        &json!({ "repository_path_pattern": "acme/web/worker*",
                 "minimum_access_level_for_delete": "owner" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created,
        json!({ "id": 1, "project_id": 1001, "repository_path_pattern": "acme/web/worker*",
                "minimum_access_level_for_push": null, "minimum_access_level_for_delete": "owner" })
    );
    // Same fields as GitLab's example payload.
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(
            reference_dir().join("examples/rest_repository_protection_rules.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(keys(&created), keys(&example[0]));

    // Form body.
    let (status, second) = call(
        Method::POST,
        base,
        REPOSITORY_RULES,
        Some(&maria),
        Some(&[
            ("repository_path_pattern", "acme/web/*-cache"),
            ("minimum_access_level_for_push", "maintainer"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(second["id"], 2);
    let (_, _, list) = get(base, REPOSITORY_RULES, Some(&maria)).await;
    let ids: Vec<&Value> = list.as_array().unwrap().iter().map(|r| &r["id"]).collect();
    assert_eq!(ids, [&json!(1), &json!(2)]);

    // PATCH changes only what is sent; "" clears a level.
    let rule1 = rule_path("1");
    let (status, patched) = call_json(
        Method::PATCH,
        base,
        &rule1,
        Some(&maria),
        &json!({ "minimum_access_level_for_push": "admin" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        patched,
        json!({ "id": 1, "project_id": 1001, "repository_path_pattern": "acme/web/worker*",
                "minimum_access_level_for_push": "admin",
                "minimum_access_level_for_delete": "owner" })
    );
    let (status, patched) = call_json(
        Method::PATCH,
        base,
        &rule1,
        Some(&maria),
        &json!({ "minimum_access_level_for_delete": "" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(patched["minimum_access_level_for_delete"], Value::Null);
    // Clearing the other one too leaves a rule without levels: refused, nothing changes.
    let (status, body) = call_json(
        Method::PATCH,
        base,
        &rule1,
        Some(&maria),
        &json!({ "minimum_access_level_for_push": "" }),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "message": { "error": ["A rule must have at least a minimum access role for push \
            or delete."] } })
    );
    let (_, _, list) = get(base, REPOSITORY_RULES, Some(&maria)).await;
    assert_eq!(list[0]["minimum_access_level_for_push"], "admin");

    // Unknown, malformed and foreign rule ids.
    for (path, status, body) in [
        (
            rule_path("999"),
            StatusCode::NOT_FOUND,
            json!({ "message": "404 Not found" }),
        ),
        (
            rule_path("abc"),
            StatusCode::BAD_REQUEST,
            json!({ "error": "protection_rule_id is invalid" }),
        ),
        (
            "/api/v4/projects/1002/registry/protection/repository/rules/1".to_owned(),
            StatusCode::NOT_FOUND,
            json!({ "message": "404 Not found" }),
        ),
    ] {
        let (got, got_body) = call_json(
            Method::PATCH,
            base,
            &path,
            Some(&maria),
            &json!({ "minimum_access_level_for_push": "owner" }),
        )
        .await;
        assert_eq!((got, &got_body), (status, &body), "PATCH {path}");
        let (got, got_body) = call(Method::DELETE, base, &path, Some(&maria), None).await;
        assert_eq!((got, &got_body), (status, &body), "DELETE {path}");
    }

    // DELETE → 204, then 404; ids are never reused.
    let rule2 = rule_path("2");
    let (status, body) = call(Method::DELETE, base, &rule2, Some(&maria), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let (status, _) = call(Method::DELETE, base, &rule2, Some(&maria), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, list) = get(base, REPOSITORY_RULES, Some(&maria)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, third) = call_json(
        Method::POST,
        base,
        REPOSITORY_RULES,
        Some(&maria),
        &json!({ "repository_path_pattern": "acme/web/*-cache",
                 "minimum_access_level_for_push": "owner" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(third["id"], 3);
}

#[tokio::test]
async fn repository_rules_are_validated_like_gitlab() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let post = |body: Value| {
        let maria = maria.clone();
        async move { call_json(Method::POST, base, REPOSITORY_RULES, Some(&maria), &body).await }
    };
    let (status, _) = post(json!({ "repository_path_pattern": "acme/web/worker",
                                   "minimum_access_level_for_push": "maintainer" }))
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let unprocessable = |errors: Value| json!({ "message": { "error": errors } });
    for (body, status, expected) in [
        (
            json!({ "repository_path_pattern": "acme/web/worker",
                    "minimum_access_level_for_delete": "owner" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(json!(["Repository path pattern has already been taken"])),
        ),
        (
            json!({ "repository_path_pattern": "acme/other/x",
                    "minimum_access_level_for_push": "owner" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(json!([
                "Repository path pattern should start with the project's full path"
            ])),
        ),
        (
            json!({ "repository_path_pattern": "acme/web/Bad Name",
                    "minimum_access_level_for_push": "owner" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(json!([
                "Repository path pattern should be a valid container repository path with optional \
                    wildcard characters."
            ])),
        ),
        (
            json!({ "repository_path_pattern": format!("acme/web/{}", "a".repeat(247)),
                    "minimum_access_level_for_push": "owner" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(json!([
                "Repository path pattern is too long (maximum is 255 characters)"
            ])),
        ),
        (
            json!({ "repository_path_pattern": "acme/web/x",
                    "minimum_access_level_for_push": null,
                    "minimum_access_level_for_delete": null }),
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(json!([
                "A rule must have at least a minimum access role for push or \
                delete."
            ])),
        ),
        (
            json!({ "repository_path_pattern": "acme/web/x" }),
            StatusCode::BAD_REQUEST,
            json!({ "error": "minimum_access_level_for_push, minimum_access_level_for_delete are \
                missing, at least one parameter must be provided" }),
        ),
        (
            json!({ "repository_path_pattern": "acme/web/x",
                    "minimum_access_level_for_push": "developer" }),
            StatusCode::BAD_REQUEST,
            json!({ "error": "minimum_access_level_for_push does not have a valid value" }),
        ),
        (
            json!({ "minimum_access_level_for_push": "owner" }),
            StatusCode::BAD_REQUEST,
            json!({ "error": "repository_path_pattern is missing" }),
        ),
    ] {
        let (got, got_body) = post(body.clone()).await;
        assert_eq!((got, got_body), (status, expected), "{body}");
    }
    // 255 characters are fine.
    let (status, _) = post(
        json!({ "repository_path_pattern": format!("acme/web/{}", "a".repeat(246)),
                                   "minimum_access_level_for_push": "owner" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // At most 5 rules per project: the 6th is refused.
    for name in ["x", "y", "z"] {
        let (status, _) = post(
            json!({ "repository_path_pattern": format!("acme/web/{name}"),
                                       "minimum_access_level_for_delete": "maintainer" }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{name}");
    }
    let (status, body) = post(json!({ "repository_path_pattern": "acme/web/sixth",
                                      "minimum_access_level_for_delete": "maintainer" }))
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({ "message": { "error": "Maximum number of protection rules have been reached." } })
    );
    let (_, _, list) = get(base, REPOSITORY_RULES, Some(&maria)).await;
    assert_eq!(list.as_array().unwrap().len(), 5);
    // The limit is per project.
    let (status, _) = call_json(
        Method::POST,
        base,
        "/api/v4/projects/acme%2Fplatform%2Fapi/registry/protection/repository/rules",
        Some(&maria),
        &json!({ "repository_path_pattern": "acme/platform/api/*",
                 "minimum_access_level_for_push": "owner" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn protection_rules_need_a_maintainer_and_the_api_scope() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let new_rule = json!({ "repository_path_pattern": "acme/web/x",
                           "minimum_access_level_for_push": "owner" });
    for user in ["devon", "reese", "gus"] {
        let token = login(base, user).await;
        for path in [REPOSITORY_RULES, TAG_RULES] {
            let (status, _, body) = get(base, path, Some(&token)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{user} GET {path}");
            assert_eq!(body, json!({ "message": "403 Forbidden" }));
        }
        let (status, body) = call_json(
            Method::POST,
            base,
            REPOSITORY_RULES,
            Some(&token),
            &new_rule,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
        assert_eq!(body, json!({ "message": "403 Forbidden" }));
        let (status, _) = call_json(
            Method::PATCH,
            base,
            &format!("{TAG_RULES}/1"),
            Some(&token),
            &json!({ "minimum_access_level_for_delete": "owner" }),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }
    // Users who cannot see the project: 404.
    let nora = login(base, "nora").await;
    let (status, _, body) = get(base, TAG_RULES, Some(&nora)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "message": "404 Project Not Found" }));
    let (status, _) = call_json(Method::POST, base, REPOSITORY_RULES, Some(&nora), &new_rule).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call_json(Method::POST, base, REPOSITORY_RULES, None, &new_rule).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A read_api token reads but cannot change.
    let reader = login_scoped(base, "maria", "read_api").await;
    let (status, _, _) = get(base, TAG_RULES, Some(&reader)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = call_json(
        Method::POST,
        base,
        REPOSITORY_RULES,
        Some(&reader),
        &new_rule,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "insufficient_scope");
    let (_, body) = gql(
        base,
        Some(&reader),
        CREATE_TAG_RULE,
        json!({ "input": { "projectPath": "acme/web", "tagNamePattern": "^x$",
                           "minimumAccessLevelForPush": "MAINTAINER",
                           "minimumAccessLevelForDelete": "MAINTAINER" } }),
    )
    .await;
    assert_eq!(body["errors"][0]["message"], NOT_AVAILABLE);

    // GraphQL: developers and outsiders get "not available", and nothing changes.
    for user in ["devon", "nora"] {
        let token = login(base, user).await;
        let (_, body) = gql(
            base,
            Some(&token),
            CREATE_TAG_RULE,
            json!({ "input": { "projectPath": "acme/web", "tagNamePattern": "^x$",
                               "minimumAccessLevelForPush": "MAINTAINER",
                               "minimumAccessLevelForDelete": "MAINTAINER" } }),
        )
        .await;
        assert_eq!(body["errors"][0]["message"], NOT_AVAILABLE, "{user}");
        assert_eq!(
            body["data"]["createContainerProtectionTagRule"],
            Value::Null
        );
        let (_, body) = gql(
            base,
            Some(&token),
            DELETE_TAG_RULE,
            json!({ "id": tag_rule_gid(1) }),
        )
        .await;
        assert_eq!(body["errors"][0]["message"], NOT_AVAILABLE, "{user}");
    }
    // The Owner may.
    let olivia = login(base, "olivia").await;
    let (status, _) = call_json(
        Method::POST,
        base,
        REPOSITORY_RULES,
        Some(&olivia),
        &new_rule,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let maria = login(base, "maria").await;
    let (_, _, tags) = get(base, TAG_RULES, Some(&maria)).await;
    assert_eq!(
        tags.as_array().unwrap().len(),
        1,
        "the seeded rule is untouched"
    );
}

#[tokio::test]
async fn a_new_tag_rule_protects_matching_tags_at_once() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let devon = login(base, "devon").await;
    let before = tag_node(base, &devon, "v1.0.0").await;
    assert_eq!(before["protection"], Value::Null);
    assert_eq!(
        before["userPermissions"]["destroyContainerRepositoryTag"],
        true
    );

    let payload = create_tag_rule(
        base,
        &maria,
        json!({ "tagNamePattern": r"^v1\.", "minimumAccessLevelForPush": "MAINTAINER",
                "minimumAccessLevelForDelete": "MAINTAINER" }),
    )
    .await;
    assert_eq!(
        payload,
        json!({ "containerProtectionTagRule": { "id": tag_rule_gid(2), "tagNamePattern": r"^v1\.",
                  "minimumAccessLevelForPush": "MAINTAINER",
                  "minimumAccessLevelForDelete": "MAINTAINER" },
                "errors": [] })
    );

    // REST deletion of a matching tag is refused, in every repository of the project.
    for path in [
        "/api/v4/projects/1001/registry/repositories/1/tags/v1.0.0",
        "/api/v4/projects/1001/registry/repositories/2/tags/v1.0.0",
    ] {
        let (status, body) = call(Method::DELETE, base, path, Some(&devon), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            body["message"],
            "403 Forbidden - Protected tags cannot be deleted"
        );
    }
    // GraphQL shows the protection and refuses the deletion too.
    let after = tag_node(base, &devon, "v1.0.0").await;
    assert_eq!(
        after["protection"],
        json!({ "minimumAccessLevelForPush": "MAINTAINER",
                "minimumAccessLevelForDelete": "MAINTAINER" })
    );
    assert_eq!(
        after["userPermissions"]["destroyContainerRepositoryTag"],
        false
    );
    let (_, body) = gql(
        base,
        Some(&devon),
        "mutation { destroyContainerRepositoryTags(input: { \
         id: \"gid://gitlab/ContainerRepository/1\",
           tagNames: [\"v1.0.0\"] }) { deletedTagNames errors } }",
        Value::Null,
    )
    .await;
    let result = &body["data"]["destroyContainerRepositoryTags"];
    assert_eq!(result["deletedTagNames"], json!([]));
    assert_eq!(
        result["errors"],
        json!(["Protected tags cannot be deleted: v1.0.0"])
    );
    // Tags that do not match stay deletable.
    let other = tag_node(base, &devon, "v2.0.0").await;
    assert_eq!(other["protection"], Value::Null);

    // Both reads list it, for maintainers only.
    let (_, _, rules) = get(base, TAG_RULES, Some(&maria)).await;
    assert_eq!(
        rules[1],
        json!({ "id": 2, "project_id": 1001, "tag_name_pattern": r"^v1\.",
                "minimum_access_level_for_push": "maintainer",
                "minimum_access_level_for_delete": "maintainer" })
    );
    let project_rules = "{ project(fullPath: \"acme/web\") { containerProtectionTagRules {
        nodes { id tagNamePattern minimumAccessLevelForPush minimumAccessLevelForDelete } } } }";
    let (_, body) = gql(base, Some(&maria), project_rules, Value::Null).await;
    let nodes = &body["data"]["project"]["containerProtectionTagRules"]["nodes"];
    assert_eq!(nodes.as_array().unwrap().len(), 2, "{body}");
    assert_eq!(nodes[0]["id"], tag_rule_gid(1));
    assert_eq!(nodes[0]["tagNamePattern"], "^stable$");
    assert_eq!(nodes[1], payload["containerProtectionTagRule"]);
    let (_, body) = gql(base, Some(&devon), project_rules, Value::Null).await;
    assert_eq!(
        body["data"]["project"]["containerProtectionTagRules"]["nodes"],
        json!([])
    );

    // Deleting the rule lifts the protection at once; ids are not reused.
    let (_, body) = gql(
        base,
        Some(&maria),
        DELETE_TAG_RULE,
        json!({ "id": tag_rule_gid(2) }),
    )
    .await;
    assert_eq!(
        body["data"]["deleteContainerProtectionTagRule"],
        json!({ "containerProtectionTagRule": payload["containerProtectionTagRule"], "errors": [] })
    );
    let after = tag_node(base, &devon, "v1.0.0").await;
    assert_eq!(after["protection"], Value::Null);
    let (status, _) = call(
        Method::DELETE,
        base,
        "/api/v4/projects/1001/registry/repositories/1/tags/v1.0.0",
        Some(&devon),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = gql(
        base,
        Some(&maria),
        DELETE_TAG_RULE,
        json!({ "id": tag_rule_gid(2) }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"], NOT_AVAILABLE,
        "already deleted"
    );
    let payload = create_tag_rule(
        base,
        &maria,
        json!({ "tagNamePattern": "^v2", "minimumAccessLevelForPush": "OWNER",
                "minimumAccessLevelForDelete": "OWNER" }),
    )
    .await;
    assert_eq!(payload["containerProtectionTagRule"]["id"], tag_rule_gid(3));
    // An owner-level rule binds maintainers too.
    let (status, _) = call(
        Method::DELETE,
        base,
        "/api/v4/projects/1001/registry/repositories/1/tags/v2.0.0",
        Some(&maria),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn tag_rules_are_validated_over_graphql() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let levels = |pattern: &str| {
        json!({ "tagNamePattern": pattern, "minimumAccessLevelForPush": "MAINTAINER",
                "minimumAccessLevelForDelete": "OWNER" })
    };
    let refused = |payload: &Value| -> Vec<String> {
        assert_eq!(
            payload["containerProtectionTagRule"],
            Value::Null,
            "{payload}"
        );
        payload["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap().to_owned())
            .collect()
    };
    for (pattern, what) in [
        ("*", "repetition without operand"),
        ("(?<=a)b", "look-behind"),
        ("v1.(", "open group"),
    ] {
        let errors = refused(&create_tag_rule(base, &maria, levels(pattern)).await);
        assert_eq!(errors.len(), 1, "{what}");
        assert!(
            errors[0].starts_with("Tag name pattern not valid RE2 syntax: "),
            "{what}: {errors:?}"
        );
    }
    let errors = refused(&create_tag_rule(base, &maria, levels(&"a".repeat(101))).await);
    assert_eq!(
        errors,
        ["Tag name pattern is too long (maximum is 100 characters)"]
    );
    let errors = refused(&create_tag_rule(base, &maria, levels("^stable$")).await);
    assert_eq!(errors, ["Tag name pattern has already been taken"]);
    let errors = refused(
        &create_tag_rule(
            base,
            &maria,
            json!({ "tagNamePattern": "^x$", "minimumAccessLevelForDelete": "OWNER" }),
        )
        .await,
    );
    assert_eq!(errors, ["Minimum access level for push can't be blank"]);
    // A blank pattern fails argument validation (a top-level error).
    let (_, body) = gql(
        base,
        Some(&maria),
        CREATE_TAG_RULE,
        json!({ "input": { "projectPath": "acme/web", "tagNamePattern": " ",
                           "minimumAccessLevelForPush": "MAINTAINER",
                           "minimumAccessLevelForDelete": "MAINTAINER" } }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["message"],
        "tagNamePattern can't be blank"
    );
    // A global id of another type does not coerce.
    let (_, body) = gql(
        base,
        Some(&maria),
        DELETE_TAG_RULE,
        json!({ "id": "gid://gitlab/ContainerRepository/1" }),
    )
    .await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("does not represent an instance of ContainerRegistry::Protection::TagRule"));

    // 100 characters are fine; the seeded rule plus four more make five, the sixth is refused.
    let ok = create_tag_rule(base, &maria, levels(&"a".repeat(100))).await;
    assert_eq!(ok["errors"], json!([]));
    for pattern in ["^b", "^c", "^d"] {
        let ok = create_tag_rule(base, &maria, levels(pattern)).await;
        assert_eq!(ok["errors"], json!([]), "{pattern}");
    }
    let errors = refused(&create_tag_rule(base, &maria, levels("^e")).await);
    assert_eq!(
        errors,
        ["Maximum number of protection rules have been reached."]
    );
    let (_, _, rules) = get(base, TAG_RULES, Some(&maria)).await;
    let ids: Vec<u64> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5], "refused attempts use no ids");
}

#[tokio::test]
async fn tag_rules_are_patched_over_rest() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let rule1 = format!("{TAG_RULES}/1");
    let (status, body) = call_json(
        Method::PATCH,
        base,
        &rule1,
        Some(&maria),
        &json!({ "tag_name_pattern": "^(stable|prod)$",
                 "minimum_access_level_for_delete": "owner" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let updated = json!({ "id": 1, "project_id": 1001, "tag_name_pattern": "^(stable|prod)$",
                          "minimum_access_level_for_push": "maintainer",
                          "minimum_access_level_for_delete": "owner" });
    assert_eq!(body, updated);
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(reference_dir().join("examples/rest_tag_protection_rules.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(keys(&body), keys(&example[0]));
    // Now even the maintainer may not delete `stable`.
    let (status, body) = call(
        Method::DELETE,
        base,
        "/api/v4/projects/1001/registry/repositories/1/tags/stable",
        Some(&maria),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        "403 Forbidden - Protected tags cannot be deleted"
    );
    let node = tag_node(base, &maria, "stable").await;
    assert_eq!(
        node["protection"],
        json!({ "minimumAccessLevelForPush": "MAINTAINER", "minimumAccessLevelForDelete": "OWNER" })
    );

    let unprocessable = |errors: Value| json!({ "message": { "error": errors } });
    for (body, status, expected) in [
        (
            json!({ "tag_name_pattern": "a".repeat(101) }),
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(json!([
                "Tag name pattern is too long (maximum is 100 characters)"
            ])),
        ),
        (
            json!({ "tag_name_pattern": "" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(json!(["Tag name pattern can't be blank"])),
        ),
        (
            json!({ "minimum_access_level_for_push": "" }),
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(json!(["Minimum access level for push can't be blank"])),
        ),
        (
            json!({ "minimum_access_level_for_delete": "developer" }),
            StatusCode::BAD_REQUEST,
            json!({ "error": "minimum_access_level_for_delete does not have a valid value" }),
        ),
    ] {
        let (got, got_body) = call_json(Method::PATCH, base, &rule1, Some(&maria), &body).await;
        assert_eq!((got, got_body), (status, expected), "{body}");
    }
    for pattern in ["v1.(", "(?!x)", "[a-"] {
        let (status, body) = call_json(
            Method::PATCH,
            base,
            &rule1,
            Some(&maria),
            &json!({ "tag_name_pattern": pattern }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{pattern}");
        let message = body["message"]["error"][0].as_str().unwrap();
        assert!(
            message.starts_with("Tag name pattern not valid RE2 syntax: "),
            "{message}"
        );
    }
    // Refusals changed nothing.
    let (_, _, rules) = get(base, TAG_RULES, Some(&maria)).await;
    assert_eq!(rules, json!([updated]));
    // Unknown rules, and rules of other projects, are 404.
    for path in [
        format!("{TAG_RULES}/42"),
        "/api/v4/projects/opensource%2Fcli/registry/protection/tag/rules/1".to_owned(),
    ] {
        let (status, body) = call_json(
            Method::PATCH,
            base,
            &path,
            Some(&maria),
            &json!({ "minimum_access_level_for_push": "owner" }),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body, json!({ "message": "404 Not found" }));
    }
    // Form bodies work too; creating and deleting tag rules is GraphQL-only.
    let (status, body) = call(
        Method::PATCH,
        base,
        &rule1,
        Some(&maria),
        Some(&[("minimum_access_level_for_delete", "maintainer")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["minimum_access_level_for_delete"], "maintainer");
    let (status, _) = call(
        Method::POST,
        base,
        TAG_RULES,
        Some(&maria),
        Some(&[("tag_name_pattern", "x")]),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _) = call(Method::DELETE, base, &rule1, Some(&maria), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn repository_rules_over_graphql_guard_repository_deletion() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let olivia = login(base, "olivia").await;
    let fields =
        "containerProtectionRepositoryRule { id repositoryPathPattern minimumAccessLevelForPush
        minimumAccessLevelForDelete } errors";
    let create = format!(
        "mutation($input: CreateContainerProtectionRepositoryRuleInput!) {{
           createContainerProtectionRepositoryRule(input: $input) {{ {fields} }} }}"
    );
    let update = format!(
        "mutation($input: UpdateContainerProtectionRepositoryRuleInput!) {{
           updateContainerProtectionRepositoryRule(input: $input) {{ {fields} }} }}"
    );
    let delete = format!(
        "mutation($id: ContainerRegistryProtectionRuleID!) {{
           deleteContainerProtectionRepositoryRule(input: {{ id: $id }}) {{ {fields} }} }}"
    );
    let gid = "gid://gitlab/ContainerRegistry::Protection::Rule/1";
    let (_, body) = gql(
        base,
        Some(&maria),
        &create,
        json!({ "input": { "projectPath": "acme/web", "repositoryPathPattern": "acme/web/worker",
                           "minimumAccessLevelForDelete": "OWNER" } }),
    )
    .await;
    assert_eq!(
        body["data"]["createContainerProtectionRepositoryRule"],
        json!({ "containerProtectionRepositoryRule": { "id": gid,
                  "repositoryPathPattern": "acme/web/worker",
                  "minimumAccessLevelForPush": null, "minimumAccessLevelForDelete": "OWNER" },
                "errors": [] }),
        "{body}"
    );
    let (_, body) = gql(
        base,
        Some(&maria),
        &create,
        json!({ "input": { "projectPath": "acme/web", "repositoryPathPattern": "acme/web/worker",
                           "minimumAccessLevelForPush": "OWNER" } }),
    )
    .await;
    assert_eq!(
        body["data"]["createContainerProtectionRepositoryRule"]["errors"],
        json!(["Repository path pattern has already been taken"])
    );

    // The maintainer can no longer delete the repository; the owner can't be stopped by it.
    let worker = "/api/v4/projects/1001/registry/repositories/2";
    let (status, body) = call(Method::DELETE, base, worker, Some(&maria), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["message"],
        "403 Forbidden - Deleting the protected repository path is forbidden"
    );
    let exists = "{ containerRepository(id: \"gid://gitlab/ContainerRepository/2\") { \
        protectionRuleExists } }";
    let (_, body) = gql(base, Some(&maria), exists, Value::Null).await;
    assert_eq!(
        body["data"]["containerRepository"]["protectionRuleExists"],
        false
    );

    // A push level makes protectionRuleExists true; clearing the delete level lifts the block.
    let (_, body) = gql(
        base,
        Some(&maria),
        &update,
        json!({ "input": { "id": gid, "minimumAccessLevelForPush": "MAINTAINER",
                           "minimumAccessLevelForDelete": null } }),
    )
    .await;
    assert_eq!(
        body["data"]["updateContainerProtectionRepositoryRule"]
            ["containerProtectionRepositoryRule"],
        json!({ "id": gid, "repositoryPathPattern": "acme/web/worker",
                "minimumAccessLevelForPush": "MAINTAINER", "minimumAccessLevelForDelete": null }),
        "{body}"
    );
    let (_, body) = gql(base, Some(&maria), exists, Value::Null).await;
    assert_eq!(
        body["data"]["containerRepository"]["protectionRuleExists"],
        true
    );
    let (_, _, rest) = get(base, REPOSITORY_RULES, Some(&olivia)).await;
    assert_eq!(rest[0]["minimum_access_level_for_push"], "maintainer");
    assert_eq!(rest[0]["minimum_access_level_for_delete"], Value::Null);
    let listing = "{ project(fullPath: \"acme/web\") { containerProtectionRepositoryRules {
        nodes { id repositoryPathPattern } } } }";
    let (_, body) = gql(base, Some(&olivia), listing, Value::Null).await;
    assert_eq!(
        body["data"]["project"]["containerProtectionRepositoryRules"]["nodes"],
        json!([{ "id": gid, "repositoryPathPattern": "acme/web/worker" }])
    );

    let (_, body) = gql(base, Some(&maria), &delete, json!({ "id": gid })).await;
    assert_eq!(
        body["data"]["deleteContainerProtectionRepositoryRule"]
            ["containerProtectionRepositoryRule"]["id"],
        gid
    );
    let (_, body) = gql(base, Some(&olivia), listing, Value::Null).await;
    assert_eq!(
        body["data"]["project"]["containerProtectionRepositoryRules"]["nodes"],
        json!([])
    );
    let (status, _) = call(Method::DELETE, base, worker, Some(&maria), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn changing_rules_needs_the_metadata_db() {
    let gl = start().await;
    let base = gl.base_url.as_str();
    let maria = login(base, "maria").await;
    let (status, _) = call_json(
        Method::POST,
        base,
        REPOSITORY_RULES,
        Some(&maria),
        &json!({ "repository_path_pattern": "acme/web/worker",
                 "minimum_access_level_for_push": "owner" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    gl.double.controls().set_metadata_db(false);
    let unsupported =
        json!({ "message": { "error": "GitLab container registry API not supported" } });
    let (status, body) = call_json(
        Method::POST,
        base,
        REPOSITORY_RULES,
        Some(&maria),
        &json!({ "repository_path_pattern": "acme/web/x",
                 "minimum_access_level_for_push": "owner" }),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::UNPROCESSABLE_ENTITY, unsupported.clone())
    );
    let (status, body) = call_json(
        Method::PATCH,
        base,
        &format!("{TAG_RULES}/1"),
        Some(&maria),
        &json!({ "minimum_access_level_for_delete": "owner" }),
    )
    .await;
    assert_eq!(
        (status, body),
        (StatusCode::UNPROCESSABLE_ENTITY, unsupported.clone())
    );
    let (status, body) = call(Method::DELETE, base, &rule_path("1"), Some(&maria), None).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, unsupported));
    let payload = create_tag_rule(
        base,
        &maria,
        json!({ "tagNamePattern": "^x$", "minimumAccessLevelForPush": "MAINTAINER",
                "minimumAccessLevelForDelete": "MAINTAINER" }),
    )
    .await;
    assert_eq!(
        payload,
        json!({ "containerProtectionTagRule": null, "errors": ["GitLab container registry API not \
            supported"] })
    );
    // Reading still works, and nothing changed.
    let (status, _, rules) = get(base, REPOSITORY_RULES, Some(&maria)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rules.as_array().unwrap().len(), 1);
    let (_, _, rules) = get(base, TAG_RULES, Some(&maria)).await;
    assert_eq!(rules[0]["minimum_access_level_for_delete"], "maintainer");
    assert_eq!(rules.as_array().unwrap().len(), 1);
}
