//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`.

use serde_json::{json, Value};

fn instance() -> Value {
    json!({ "name": "instance", "in": "path", "required": true, "schema": { "type": "string" },
            "description": "Instance name as configured (`demo` for the embedded GitLab double)." })
}

fn repository_id() -> Value {
    json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 1 },
            "description": "GitLab's container repository id." })
}

fn query(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": { "type": "string" }, "description": description })
}

fn answer(schema: &str, description: &str) -> Value {
    json!({
        "200": { "description": description, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } },
        "400": { "$ref": "#/components/responses/BadRequest" },
        "401": { "$ref": "#/components/responses/NotSignedIn" },
        "403": { "$ref": "#/components/responses/Forbidden" },
        "404": { "$ref": "#/components/responses/NotFound" },
        "429": { "$ref": "#/components/responses/RateLimited" },
        "502": { "$ref": "#/components/responses/GitLabUnavailable" }
    })
}

fn body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// The whole document.
pub fn document() -> Value {
    let draft_params = json!([instance(), { "name": "project", "in": "path", "required": true, "schema": { "type": "string" } },
        query("keep_n", "1, 5, 10, 25, 50 or 100; empty for none."), query("older_than", "7d, 14d, 30d or 90d; empty for none."),
        query("name_regex", "Tags to delete (RE2, anchored by GitLab as \\A…\\z)."), query("name_regex_keep", "Tags to keep."),
        query("cadence", "1d, 7d, 14d, 1month or 3month."), query("enabled", "1 or 0.")]);
    let tag_query = vec![
        query("q", "Name filter: a substring, or an RE2 regex with `re=1`."),
        query("re", "`1`: `q` is a regular expression (RE2 syntax; look-around and back-references are refused)."),
        query("older", "Only tags older than this age: `12h`, `7d`, `2w`, `3month`, `1y`."),
        query("newer", "Only tags newer than this age."),
        query("min", "Only tags at least this big: `200MB`, `1.5GiB`, `800k`."),
        query("max", "Only tags at most this big."),
        json!({ "name": "kind", "in": "query", "required": false, "style": "form", "explode": true,
                "schema": { "type": "array", "items": { "type": "string", "enum": ["multi-arch", "signed", "protected", "missing-manifest"] } },
                "description": "Only tags of every listed kind (repeat the parameter)." }),
        json!({ "name": "sort", "in": "query", "required": false,
                "schema": { "type": "string", "enum": ["published_desc", "published_asc", "name_asc", "name_desc", "size_desc", "size_asc"], "default": "published_desc" },
                "description": "Order over all tags of the repository; names sort naturally (v1.9 before v1.10)." }),
        json!({ "name": "page", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "default": 1 } }),
        json!({ "name": "per_page", "in": "query", "required": false, "schema": { "type": "integer", "enum": [20, 50, 100], "default": 50 } }),
    ];
    let repository_query = [
        query("q", "Image name filter."),
        json!({ "name": "sort", "in": "query", "required": false,
                "schema": { "type": "string", "enum": ["name_asc", "name_desc", "created_asc", "created_desc", "updated_asc", "updated_desc"] } }),
        query(
            "after",
            "GitLab's cursor of the next page (from `page.next_cursor`).",
        ),
        query(
            "before",
            "GitLab's cursor of the previous page (from `page.prev_cursor`).",
        ),
    ];
    let list_query = [
        query("q", "Search text."),
        json!({ "name": "page", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1 } }),
    ];
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "registry-dash API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every data view of the dashboard as JSON. Authenticate with the dashboard's session cookie (mutations then need the dashboard's own Origin) or with `Authorization: Bearer <GitLab token>` (a token with `read_api`, or `api` for deletions). GitLab decides what each caller may see and do. Query strings are the dashboard's own URL states; parameters a page would ignore with a notice are a 400 here."
        },
        "servers": [{ "url": "/" }],
        "security": [{ "gitlabToken": [] }, { "session": [] }],
        "paths": {
            "/api/v1/instances": { "get": {
                "summary": "Configured GitLab instances", "security": [],
                "responses": { "200": { "description": "Instances", "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Instance" } } } } } }
            } },
            "/api/v1/{instance}/user": { "get": {
                "summary": "The signed-in user", "parameters": [instance()], "responses": answer("Viewer", "The user")
            } },
            "/api/v1/{instance}/projects": { "get": {
                "summary": "Projects with container images", "parameters": [instance(), list_query[0], list_query[1]],
                "responses": answer("Page", "A page of projects")
            } },
            "/api/v1/{instance}/groups": { "get": {
                "summary": "Groups", "parameters": [instance(), list_query[0], list_query[1]],
                "responses": answer("Page", "A page of groups")
            } },
            "/api/v1/{instance}/projects/{project}/repositories": { "get": {
                "summary": "A project's image repositories",
                "parameters": [instance(), { "name": "project", "in": "path", "required": true, "schema": { "type": "string" }, "description": "Full path, URL-encoded (`acme%2Fweb`)." },
                               repository_query[0], repository_query[1], repository_query[2], repository_query[3]],
                "responses": answer("OwnerPage", "The project and a page of its repositories")
            } },
            "/api/v1/{instance}/groups/{group}/repositories": { "get": {
                "summary": "The image repositories of a group's projects",
                "parameters": [instance(), { "name": "group", "in": "path", "required": true, "schema": { "type": "string" }, "description": "Full path, URL-encoded." },
                               repository_query[0], repository_query[1], repository_query[2], repository_query[3]],
                "responses": answer("OwnerPage", "The group and a page of its repositories")
            } },
            "/api/v1/{instance}/repositories/{id}/tags": { "get": {
                "summary": "Tags, filtered and sorted across all tags of the repository",
                "description": "Served from the tag index. While a large repository is still being indexed, `progress.complete` is false and the answer covers the tags indexed so far; ask again.",
                "parameters": std::iter::once(instance()).chain(std::iter::once(repository_id())).chain(tag_query).collect::<Vec<_>>(),
                "responses": answer("TagListPage", "A page of tags")
            } },
            "/api/v1/{instance}/repositories/{id}/tags/{tag}": { "get": {
                "summary": "One tag in full",
                "parameters": [instance(), repository_id(), { "name": "tag", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$" } }],
                "responses": answer("TagDetail", "The tag")
            } },
            "/api/v1/{instance}/repositories/{id}/deletion-plan": { "post": {
                "summary": "What deleting these tags would do (nothing is deleted)",
                "parameters": [instance(), repository_id()],
                "requestBody": body(json!({ "$ref": "#/components/schemas/Names" })),
                "responses": answer("DeletionPlan", "Refusals, shared images, unknown names")
            } },
            "/api/v1/{instance}/repositories/{id}/tag-deletions": { "post": {
                "summary": "Delete exactly these tags",
                "description": "Each tag is deleted with its own GitLab request; nothing else is touched. The answer reports every tag.",
                "parameters": [instance(), repository_id()],
                "requestBody": body(json!({ "$ref": "#/components/schemas/Names" })),
                "responses": answer("DeleteOutcomes", "One outcome per tag")
            } },
            "/api/v1/{instance}/repositories/{id}/deletion": { "post": {
                "summary": "Schedule the repository's deletion (Maintainer)",
                "parameters": [instance(), repository_id()],
                "requestBody": body(json!({ "type": "object", "required": ["confirm_path"], "additionalProperties": false,
                                            "properties": { "confirm_path": { "type": "string", "description": "The repository's path, as confirmation." } } })),
                "responses": answer("RepositoryHeader", "The repository, now scheduled for deletion")
            } },
            "/api/v1/{instance}/projects/{project}/cleanup-policy": {
                "get": {
                    "summary": "The project's saved cleanup policy and whether the caller may edit it",
                    "parameters": [instance(), { "name": "project", "in": "path", "required": true, "schema": { "type": "string" }, "description": "Full path, URL-encoded." }],
                    "responses": answer("PolicyAnswer", "The saved policy")
                },
                "put": {
                    "summary": "Save the cleanup policy (Maintainer); GitLab resets its next run",
                    "parameters": [instance(), { "name": "project", "in": "path", "required": true, "schema": { "type": "string" } }],
                    "requestBody": body(json!({ "$ref": "#/components/schemas/PolicyBody" })),
                    "responses": answer("SavedPolicy", "The policy as GitLab saved it")
                }
            },
            "/api/v1/{instance}/projects/{project}/cleanup-preview": { "get": {
                "summary": "What a draft policy deletes in every repository of the project, tag by tag, with the rule that decided",
                "description": "Query parameters are the draft (`enabled`, `cadence`, `keep_n`, `older_than`, `name_regex`, `name_regex_keep`); absent ones take the saved policy's values.",
                "parameters": draft_params.clone(),
                "responses": answer("Preview", "Per repository: counts, bytes freed, warnings and every tag's decision")
            } },
            "/api/v1/{instance}/projects/{project}/cleanup-runs": { "post": {
                "summary": "Run now: GitLab's bulk delete with the draft in the query, in the confirmed repositories (Maintainer)",
                "description": "Post back the preview's `run` as `confirmed`. A repository is sent only while the draft, evaluated again as the caller's role, deletes no more tags there than confirmed (else `Changed`). GitLab deletes in the background and refuses a second run in a repository within the hour (`Refused`, in GitLab's words).",
                "parameters": draft_params,
                "requestBody": body(json!({ "type": "object", "required": ["confirmed"], "additionalProperties": false, "properties": {
                    "confirmed": { "type": "array", "items": { "$ref": "#/components/schemas/RunConfirmation" } } } })),
                "responses": answer("RunOutcomes", "One outcome per confirmed repository")
            } },
            "/api/v1/{instance}/projects/{project}/protection-rules": { "post": {
                "summary": "Create, change or delete one protection rule (Maintainer); answers with the project's rules",
                "description": "GitLab's limits are checked first (5 rules of each kind, RE2 tag patterns of at most 100 characters, repository paths starting with the project's path, no duplicates). Tag rules are created and deleted through GitLab's GraphQL API, everything else through REST.",
                "parameters": [instance(), { "name": "project", "in": "path", "required": true, "schema": { "type": "string" } }],
                "requestBody": body(json!({ "$ref": "#/components/schemas/RuleChange" })),
                "responses": answer("ProtectionRules", "The project's rules after the change")
            } },
            "/api/v1/openapi.json": { "get": {
                "summary": "This document", "security": [],
                "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": {} } } }
            } }
        },
        "components": {
            "securitySchemes": {
                "gitlabToken": { "type": "http", "scheme": "bearer", "description": "A GitLab personal, project or OAuth access token of the instance in the path." },
                "session": { "type": "apiKey", "in": "cookie", "name": "registry_dash_session" }
            },
            "responses": {
                "BadRequest": error_response("The request was not valid; nothing was changed"),
                "NotSignedIn": error_response("No or an expired GitLab sign-in for this instance"),
                "Forbidden": error_response("GitLab does not allow this to the caller"),
                "NotFound": error_response("Not found, or not visible to the caller"),
                "RateLimited": error_response("GitLab's rate limit; see Retry-After"),
                "GitLabUnavailable": error_response("GitLab did not answer usefully")
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "object", "required": ["kind", "message"], "properties": {
                    "kind": { "type": "string", "enum": ["NotSignedIn", "Forbidden", "NotFound", "UnknownInstance", "GitLabUnavailable", "RateLimited", "BadRequest", "Internal"] },
                    "message": { "type": "string" } } } } },
                "Instance": { "type": "object", "properties": { "name": { "type": "string" }, "label": { "type": "string" }, "web_url": { "type": "string" }, "demo": { "type": "boolean" } } },
                "Viewer": { "type": "object", "properties": { "id": { "type": "integer" }, "username": { "type": "string" }, "name": { "type": "string" }, "avatar_url": { "type": ["string", "null"] }, "instance": { "type": "string" } } },
                "Page": { "type": "object", "description": "A page of projects (`projects`) or groups (`groups`) with `total`, `page` and paging fields.", "additionalProperties": true },
                "OwnerPage": { "type": "object", "required": ["owner", "page"], "properties": {
                    "owner": { "type": "object", "description": "The project (with the caller's `access`) or group.", "additionalProperties": true },
                    "page": { "type": "object", "properties": {
                        "repositories": { "type": "array", "items": { "$ref": "#/components/schemas/ImageRepository" } },
                        "total": { "type": ["integer", "null"] }, "next_cursor": { "type": ["string", "null"] }, "prev_cursor": { "type": ["string", "null"] }, "now": { "type": "integer" } } } } },
                "ImageRepository": { "type": "object", "properties": {
                    "id": { "type": "integer" }, "name": { "type": "string" }, "path": { "type": "string" }, "location": { "type": "string" },
                    "created_at": { "type": ["string", "null"] }, "updated_at": { "type": ["string", "null"] }, "tags_count": { "type": ["integer", "null"] },
                    "size": { "type": ["integer", "null"], "description": "Bytes; only with GitLab's metadata database." },
                    "cleanup_status": { "type": "string" }, "status": { "type": ["string", "null"] }, "project_path": { "type": "string" } } },
                "Tag": { "type": "object", "properties": {
                    "name": { "type": "string" }, "digest": { "type": ["string", "null"], "description": "Manifest digest; null when the manifest is missing." },
                    "revision": { "type": ["string", "null"], "description": "Config digest." },
                    "created_at": { "type": ["integer", "null"], "description": "Unix seconds." }, "published_at": { "type": ["integer", "null"], "description": "Unix seconds (metadata database)." },
                    "total_size": { "type": ["integer", "null"] }, "media_type": { "type": ["string", "null"] },
                    "referrers": { "type": "array", "items": { "type": "object", "properties": { "artifact_type": { "type": "string" }, "digest": { "type": "string" } } } },
                    "protection": { "type": ["object", "null"], "properties": { "minimum_access_level_for_push": { "type": ["string", "null"] }, "minimum_access_level_for_delete": { "type": ["string", "null"] } } } } },
                "RepositoryHeader": { "type": "object", "properties": {
                    "id": { "type": "integer" }, "name": { "type": "string" }, "path": { "type": "string" }, "location": { "type": "string" },
                    "project_id": { "type": "integer" }, "project_path": { "type": "string" }, "project_name": { "type": "string" },
                    "tags_count": { "type": ["integer", "null"] }, "status": { "type": ["string", "null"] }, "cleanup_status": { "type": "string" },
                    "access": { "type": "string", "description": "The caller's role in the project." },
                    "can_delete_repository": { "type": "boolean" }, "protection_rule_exists": { "type": "boolean" } } },
                "TagListPage": { "type": "object", "properties": {
                    "repository": { "$ref": "#/components/schemas/RepositoryHeader" },
                    "progress": { "type": "object", "properties": { "indexed": { "type": "integer" }, "total": { "type": ["integer", "null"] }, "complete": { "type": "boolean" }, "error": { "type": ["string", "null"] }, "age_secs": { "type": ["integer", "null"] } } },
                    "slice": { "type": "object", "properties": { "tags": { "type": "array", "items": { "$ref": "#/components/schemas/Tag" } }, "matched": { "type": "integer" }, "page": { "type": "integer" }, "pages": { "type": "integer" } } },
                    "now": { "type": "integer" } } },
                "TagDetail": { "type": "object", "properties": {
                    "repository": { "$ref": "#/components/schemas/RepositoryHeader" }, "tag": { "$ref": "#/components/schemas/Tag" }, "location": { "type": "string" },
                    "config": { "type": ["object", "null"] }, "layers": { "type": "array", "items": { "type": "object" } },
                    "platforms": { "type": "array", "items": { "type": "object" } }, "also_tagged": { "type": "array", "items": { "type": "string" } }, "now": { "type": "integer" } } },
                "Names": { "type": "object", "required": ["names"], "additionalProperties": false, "properties": {
                    "names": { "type": "array", "minItems": 1, "maxItems": domain::tags::MAX_DELETE_BATCH, "items": { "type": "string" } } } },
                "DeletionPlan": { "type": "object", "properties": {
                    "tags": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "refusal": { "type": ["string", "null"] }, "shares_digest_with": { "type": "array", "items": { "type": "string" } }, "total_size": { "type": ["integer", "null"] } } } },
                    "unknown": { "type": "array", "items": { "type": "string" } }, "includes_latest": { "type": "boolean" } } },
                "PolicyBody": { "type": "object", "required": ["enabled", "cadence"], "additionalProperties": false, "properties": {
                    "enabled": { "type": "boolean" }, "cadence": { "type": "string", "enum": ["1d", "7d", "14d", "1month", "3month"] },
                    "keep_n": { "type": ["integer", "null"], "enum": [1, 5, 10, 25, 50, 100, null] },
                    "older_than": { "type": ["string", "null"], "enum": ["7d", "14d", "30d", "90d", null] },
                    "name_regex": { "type": ["string", "null"], "maxLength": 255 }, "name_regex_keep": { "type": ["string", "null"], "maxLength": 255 } } },
                "SavedPolicy": { "type": "object", "properties": { "policy": { "type": "object" }, "next_run_at": { "type": ["string", "null"] }, "notes": { "type": "array", "items": { "type": "string" } } } },
                "RunConfirmation": { "type": "object", "required": ["repository_id", "tags"], "properties": { "repository_id": { "type": "integer" }, "tags": { "type": "integer", "description": "Tags the confirmed preview deletes there." } } },
                "RunOutcomes": { "type": "array", "items": { "type": "object", "properties": {
                    "repository_id": { "type": "integer" }, "path": { "type": "string" }, "tags": { "type": "integer" },
                    "result": { "description": "\"Accepted\", {\"Changed\": {\"now\": n}}, {\"Refused\": \"GitLab's message\"} or {\"Failed\": \"…\"}" } } } },
                "TagRuleDraft": { "type": "object", "required": ["pattern", "min_push", "min_delete"], "properties": { "pattern": { "type": "string", "maxLength": 100 }, "min_push": { "$ref": "#/components/schemas/RuleLevel" }, "min_delete": { "$ref": "#/components/schemas/RuleLevel" } } },
                "RepositoryRuleDraft": { "type": "object", "required": ["pattern"], "properties": { "pattern": { "type": "string", "maxLength": 255 }, "min_push": { "oneOf": [{ "$ref": "#/components/schemas/RuleLevel" }, { "type": "null" }] }, "min_delete": { "oneOf": [{ "$ref": "#/components/schemas/RuleLevel" }, { "type": "null" }] } } },
                "RuleLevel": { "type": "string", "enum": ["Maintainer", "Owner", "Admin"] },
                "RuleChange": { "description": "Exactly one of these keys.", "type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
                    "CreateTag": { "$ref": "#/components/schemas/TagRuleDraft" },
                    "UpdateTag": { "type": "array", "prefixItems": [{ "type": "integer" }, { "$ref": "#/components/schemas/TagRuleDraft" }] },
                    "DeleteTag": { "type": "integer" },
                    "CreateRepository": { "$ref": "#/components/schemas/RepositoryRuleDraft" },
                    "UpdateRepository": { "type": "array", "prefixItems": [{ "type": "integer" }, { "$ref": "#/components/schemas/RepositoryRuleDraft" }] },
                    "DeleteRepository": { "type": "integer" } } },
                "ProtectionRules": { "type": "object", "properties": {
                    "repository": { "type": "array", "items": { "type": "object", "properties": { "id": { "type": "integer" }, "pattern": { "type": "string" }, "min_push": { "type": ["string", "null"] }, "min_delete": { "type": ["string", "null"] } } } },
                    "tag": { "type": "array", "items": { "type": "object", "properties": { "id": { "type": "integer" }, "pattern": { "type": "string" }, "min_push": { "type": "string" }, "min_delete": { "type": "string" } } } } } },
                "PolicyAnswer": { "type": "object", "properties": { "saved": { "$ref": "#/components/schemas/SavedPolicy" }, "edit_refusal": { "type": ["string", "null"] },
                    "rules": { "description": "The project's protection rules (Maintainers; null otherwise, with rules_note saying why)", "oneOf": [{ "$ref": "#/components/schemas/ProtectionRules" }, { "type": "null" }] },
                    "rules_note": { "type": ["string", "null"] } } },
                "Preview": { "type": "object", "properties": {
                    "run": { "type": "array", "items": { "$ref": "#/components/schemas/RunConfirmation" }, "description": "What Run now would delete as the caller; post it back as `confirmed`." },
                    "policy": { "type": "object" }, "mode": { "type": "string", "enum": ["Legacy", "MetadataDatabase"] },
                    "warnings": { "type": "array", "items": { "type": "string" } },
                    "repositories": { "type": "array", "items": { "type": "object", "properties": {
                        "id": { "type": "integer" }, "path": { "type": "string" }, "complete": { "type": "boolean" },
                        "summary": { "type": "object", "properties": { "deleted": { "type": "integer" }, "kept": { "type": "integer" }, "bytes_freed": { "type": "integer" }, "without_timestamp": { "type": "integer" }, "ties": { "type": "integer" } } },
                        "warnings": { "type": "array", "items": { "type": "string" } },
                        "decisions": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "reason": { "type": "string", "enum": ["Latest", "NotMatched", "KeepRegex", "KeepN", "TooNew", "NoTimestamp", "Protected", "Deleted"] }, "tie": { "type": "boolean" } } } } } } } } },
                "DeleteOutcomes": { "type": "array", "items": { "type": "object", "properties": { "name": { "type": "string" }, "deleted": { "type": "boolean" }, "message": { "type": ["string", "null"] } } } }
            }
        }
    })
}
