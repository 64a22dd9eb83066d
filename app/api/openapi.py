"""The OpenAPI 3.1 document of the read-only JSON API at ``/api/v1``.

Kept as Python data beside the views so a test can compare the two: every route of the ``api``
blueprint must be described here, and schemathesis checks that the responses match. Results
are described by their documented top-level sections (see ``analysis.results``); deeper fields
may grow, so objects allow additional properties.
"""

from __future__ import annotations

import copy
from typing import Any

API_VERSION = "1.0.0"
PREFIX = "/api/v1"

_NULLABLE_INT = {"type": ["integer", "null"]}
_NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
_TEXT = {
    "type": "object",
    "description": "The same text in Indonesian (`id`) and English (`en`).",
    "properties": {"id": {"type": "string"}, "en": {"type": "string"}},
    "additionalProperties": {"type": "string"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _unauthorized() -> dict[str, Any]:
    response = _error("No token, or a token that is unknown, revoked or expired.")
    response["headers"] = {"WWW-Authenticate": {
        "description": "`Bearer`, with `error=\"invalid_token\"` when a token was sent.",
        "schema": {"type": "string"}}}
    return response


def _id_parameter(name: str, what: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "minimum": 1}}


def _operation(operation_id: str, summary: str, description: str, ok: dict[str, Any],
               parameters: list[dict[str, Any]] | None = None, *, scoped: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok, "400": _BAD_REQUEST, "401": _unauthorized()}
    if scoped:
        responses["403"] = _error("Your role in this partnership does not allow it.")
    responses["404"] = _error(
        "No such object, or one of a partnership you are not a member of (the API does "
        "not say which), or nothing to show yet.")
    return {"operationId": operation_id, "summary": summary, "description": description,
            "parameters": parameters or [], "responses": responses}


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "description": "A stable code, e.g. `invalid_token`.",
                      "examples": ["invalid_token", "not_found", "forbidden"]},
            "message": {"type": "string", "description": "What went wrong, in English."},
        },
    },
    "Role": {"type": "string", "enum": ["coordinator", "facilitator", "observer"],
             "description": "Your role; site administrators count as coordinators."},
    "Partnership": {
        "type": "object",
        "required": ["id", "name", "description", "default_language", "min_group_size",
                     "role"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "default_language": {"type": "string"},
            "min_group_size": {"type": "integer", "minimum": 3,
                               "description": "The anonymity threshold k: no figure about "
                                              "fewer than k responses is shown."},
            "role": _ref("Role"),
        },
    },
    "Partner": {
        "type": "object",
        "required": ["id", "name", "sector"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "sector": {"type": "string", "enum": ["government", "private", "ngo", "community",
                                                  "academia", "donor", "other"]},
        },
    },
    "PartnershipDetail": {
        "allOf": [_ref("Partnership"), {
            "type": "object",
            "required": ["partners"],
            "properties": {"partners": {"type": "array", "items": _ref("Partner")}},
        }],
    },
    "Round": {
        "type": "object",
        "required": ["id", "name", "status", "opens_on", "closes_on", "questionnaire",
                     "partner_ids"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "open", "closed"]},
            "opens_on": _NULLABLE_DATE,
            "closes_on": _NULLABLE_DATE,
            "questionnaire": {
                "type": "object",
                "required": ["slug", "version", "title"],
                "properties": {"slug": {"type": "string"}, "version": {"type": "integer"},
                               "title": {"type": "string"}},
            },
            "partner_ids": {"type": "array", "items": {"type": "integer"},
                            "description": "The participating partners."},
        },
    },
    "RoundResults": {
        "type": "object",
        "description": "The round's published, anonymity-checked results: the same figures "
                       "as the results pages. A hidden figure is `null` with "
                       "`suppressed: true`. See `analysis/results/` for every field.",
        "required": ["meta", "response_counts", "scores", "heatmap", "distributions",
                     "partner_differences", "perception_gaps", "agreement", "reliability",
                     "rating_matrix", "asymmetries", "over_time", "notes", "round"],
        "properties": {
            "meta": {
                "type": "object",
                "required": ["round_id", "k", "comment_threshold", "n_responses",
                             "n_partners", "dimensions"],
                "properties": {
                    "round_id": {"type": "integer"},
                    "k": {"type": "integer"},
                    "comment_threshold": {"type": "integer"},
                    "n_responses": _NULLABLE_INT,
                    "n_partners": {"type": "integer"},
                    "dimensions": {"type": "array", "items": {"type": "object"}},
                },
            },
            "response_counts": {
                "type": "object",
                "required": ["partnership", "partners"],
                "properties": {
                    "partnership": {
                        "type": "object", "required": ["n", "suppressed"],
                        "properties": {"n": _NULLABLE_INT, "suppressed": {"type": "boolean"}},
                    },
                    "partners": {"type": "array", "items": {
                        "type": "object",
                        "required": ["partner_id", "name", "n", "suppressed"],
                        "properties": {"partner_id": {"type": "integer"},
                                       "name": {"type": "string"}, "n": _NULLABLE_INT,
                                       "suppressed": {"type": "boolean"}},
                    }},
                },
            },
            "scores": {"type": "array", "items": {
                "type": "object", "required": ["dimension", "label", "partnership", "partners"],
                "properties": {"dimension": {"type": "string"}, "label": _TEXT,
                               "partnership": {"type": "object"},
                               "partners": {"type": "array", "items": {"type": "object"}}},
            }},
            "heatmap": {"type": "object"},
            "distributions": {"type": "array", "items": {"type": "object"}},
            "partner_differences": {"type": "array", "items": {"type": "object"}},
            "perception_gaps": {"type": "object"},
            "agreement": {"type": "array", "items": {"type": "object"}},
            "reliability": {"type": "array", "items": {"type": "object"}},
            "rating_matrix": {"type": "array", "items": {
                "type": "object",
                "description": "Per partner-rating question: `cells` (rater, ratee, n, mean) "
                               "and `dimension`, the dimension id the question belongs to "
                               "(null when the questionnaire names none).",
            }},
            "asymmetries": {"type": "array", "items": {"type": "object"}},
            "meta_perception": {"type": "array", "items": {
                "type": "object",
                "description": "Per meta-perception question (\"how do you think the other "
                               "partners rate this?\"): `target` (item or dimension id), "
                               "`target_kind`, `label`, `target_label`, and for every "
                               "partner and the partnership: n_predicted, predicted_mean, "
                               "n_actual, actual_mean, difference (predicted - actual: "
                               "positive = overestimates), direction, p_value, p_method, "
                               "p_mc_se, p_adjusted, suppressed, reason, sentence.",
                "required": ["meta_id", "target", "target_kind", "partners", "partnership"],
            }},
            "over_time": {"type": ["object", "null"]},
            "notes": {"type": "array", "items": {"type": "object"}},
            "round": {"type": "object", "required": ["id", "name", "status"],
                      "properties": {"id": {"type": "integer"}, "name": {"type": "string"},
                                     "status": {"type": "string"}}},
        },
    },
    "OverTimeResults": {
        "type": "object",
        "description": "Results across the partnership's closed rounds (at least two), with "
                       "the same anonymity rules as each round.",
        "required": ["meta", "series", "changes", "trends", "largest_changes", "notes",
                     "rounds"],
        "properties": {
            "meta": {"type": "object"},
            "series": {"type": "array", "items": {"type": "object"}},
            "changes": {"type": "array", "items": {"type": "object"}},
            "trends": {"type": "array", "items": {"type": "object"}},
            "largest_changes": {"type": "array", "items": {"type": "object"}},
            "notes": {"type": "array", "items": {"type": "object"}},
            "rounds": {"type": "array", "items": {
                "type": "object", "required": ["id", "name"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}},
        },
    },
}

_NULLABLE_STRING = {"type": ["string", "null"]}
_SCHEMAS["Action"] = {
    "type": "object",
    "description": "A follow-up action (tindak lanjut) agreed in a workshop.",
    "required": ["id", "round_id", "workshop_id", "workshop_held_on", "description",
                 "dimension_id", "item_id", "owner_ids", "co_owner_ids", "due_on", "status",
                 "progress", "drop_reason", "overdue", "carried_over_from_id",
                 "carried_into_round_id", "checklist", "impact"],
    "properties": {
        "id": {"type": "integer"},
        "round_id": {"type": "integer", "description": "The round whose workshop agreed it."},
        "workshop_id": {"type": "integer"},
        "workshop_held_on": {"type": "string", "format": "date"},
        "description": {"type": "string"},
        "questionnaire_version_id": _NULLABLE_INT,
        "dimension_id": _NULLABLE_STRING,
        "item_id": {**_NULLABLE_STRING, "description": "Set when it addresses one question."},
        "owner_ids": {"type": "array", "items": {"type": "integer"}},
        "co_owner_ids": {"type": "array", "items": {"type": "integer"}},
        "due_on": _NULLABLE_DATE,
        "status": {"type": "string", "enum": ["planned", "in_progress", "done", "dropped"]},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "drop_reason": _NULLABLE_STRING,
        "overdue": {"type": "boolean"},
        "carried_over_from_id": _NULLABLE_INT,
        "carried_into_round_id": _NULLABLE_INT,
        "checklist": {"type": "array", "items": {
            "type": "object", "required": ["text", "done"],
            "properties": {"text": {"type": "string"}, "done": {"type": "boolean"}}}},
        "impact": {"type": ["object", "null"], "description": (
            "What happened to the dimension by the next closed round, in words (English): "
            "`state` (measured, awaiting, not_closed, dropped, hidden), `headline`, `stats`, "
            "`caveat`, `evidence` and per owning partner `partners`; no figure of a group "
            "under k.")},
    },
}
_SCHEMAS["Commitment"] = {
    "type": "object",
    "description": "What a partner pledged for a period, reviewed in each round of it.",
    "required": ["id", "partner_id", "kind", "description", "round_id", "starts_on",
                 "ends_on", "note", "status", "reviews"],
    "properties": {
        "id": {"type": "integer"},
        "partner_id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["money", "staff", "knowledge", "networks",
                                            "local_wisdom", "facilities", "other"]},
        "description": {"type": "string"},
        "round_id": {"type": "integer", "description": "The round from which it counts."},
        "starts_on": _NULLABLE_DATE,
        "ends_on": _NULLABLE_DATE,
        "note": {"type": "string"},
        "status": {"type": "string", "description": "The latest round's verdict.",
                   "enum": ["pending", "delivered", "partial", "not_delivered"]},
        "reviews": {"type": "array", "items": {
            "type": "object", "required": ["round_id", "status", "note"],
            "properties": {"round_id": {"type": "integer"},
                           "status": {"type": "string", "enum": [
                               "pending", "delivered", "partial", "not_delivered"]},
                           "note": {"type": "string"}}}},
    },
}

_PARTNERSHIP_ID = _id_parameter("partnership_id", "partnership")
_ROUND_ID = _id_parameter("round_id", "round")

# Every request passes the input check of app.request_hygiene first: a control character
# anywhere in the address or a header value it reads is refused before any route runs.
_BAD_REQUEST = _error("The address holds a control character (NUL, ESC...) or is otherwise "
                      "malformed; the message says where.")

_PATHS: dict[str, Any] = {
    f"{PREFIX}/openapi.json": {"get": {
        "operationId": "openapi",
        "summary": "This document",
        "security": [],
        "responses": {"200": _json({"type": "object", "required": ["openapi", "paths"]},
                                   "The OpenAPI 3.1 description of this API."),
                      "400": _BAD_REQUEST},
    }},
    f"{PREFIX}/partnerships": {"get": _operation(
        "partnerships", "Your partnerships",
        "Every partnership you have a role in (all of them for site administrators).",
        _json({"type": "object", "required": ["partnerships"],
               "properties": {"partnerships": {"type": "array",
                                               "items": _ref("Partnership")}}},
              "Your partnerships, by name."),
        scoped=False)},
    f"{PREFIX}/partnerships/{{partnership_id}}": {"get": _operation(
        "partnership", "One partnership", "A partnership with its partners.",
        _json(_ref("PartnershipDetail"), "The partnership."), [_PARTNERSHIP_ID], scoped=True)},
    f"{PREFIX}/partnerships/{{partnership_id}}/rounds": {"get": _operation(
        "rounds", "A partnership's rounds", "Every round of the partnership, oldest first.",
        _json({"type": "object", "required": ["rounds"],
               "properties": {"rounds": {"type": "array", "items": _ref("Round")}}},
              "The rounds."), [_PARTNERSHIP_ID], scoped=True)},
    f"{PREFIX}/rounds/{{round_id}}/results": {"get": _operation(
        "round_results", "A round's results",
        "The published results of an open or closed round. While a round is open, they are "
        "refreshed only after at least k new responses. 404 when the round has no responses "
        "yet.",
        _json(_ref("RoundResults"), "The round's results."), [_ROUND_ID], scoped=True)},
    f"{PREFIX}/partnerships/{{partnership_id}}/over-time": {"get": _operation(
        "over_time", "Results over time",
        "Changes and trends across the partnership's closed rounds. 404 while fewer than two "
        "rounds are closed.",
        _json(_ref("OverTimeResults"), "The results over time."), [_PARTNERSHIP_ID],
        scoped=True)},
    f"{PREFIX}/partnerships/{{partnership_id}}/actions": {"get": _operation(
        "actions", "The action register",
        "Every follow-up action of the partnership, newest round first, with owners, status, "
        "progress and its impact line.",
        _json({"type": "object", "required": ["actions"],
               "properties": {"actions": {"type": "array", "items": _ref("Action")}}},
              "The actions."), [_PARTNERSHIP_ID], scoped=True)},
    f"{PREFIX}/partnerships/{{partnership_id}}/commitments": {"get": _operation(
        "commitments", "The commitments register",
        "What each partner pledged, with its review in each round of the period.",
        _json({"type": "object", "required": ["commitments"],
               "properties": {"commitments": {"type": "array",
                                              "items": _ref("Commitment")}}},
              "The commitments."), [_PARTNERSHIP_ID], scoped=True)},
}

_DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Mitra Sehat API",
        "version": API_VERSION,
        "summary": "Read-only access to partnerships, rounds and their published results.",
        "description": (
            "Authenticate with a personal access token, created on your profile page "
            "(`/profile/tokens`), in the header `Authorization: Bearer <token>`. The token "
            "acts with your roles: objects of partnerships you have no role in answer 404. "
            "Results are the anonymity-checked figures of the results pages; hidden figures "
            "are `null`. Errors are JSON objects with `error` and `message`."
        ),
    },
    "paths": _PATHS,
    "components": {
        "schemas": _SCHEMAS,
        "securitySchemes": {"bearerAuth": {
            "type": "http", "scheme": "bearer",
            "description": "A personal access token (starts with `mspat_`)."}},
    },
    "security": [{"bearerAuth": []}],
}


def openapi_document() -> dict[str, Any]:
    """Return a fresh copy of the document (callers may change theirs)."""
    return copy.deepcopy(_DOCUMENT)
