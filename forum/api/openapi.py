"""The OpenAPI 3.1 document, written from the declarations in ``forum.api.routing.ENDPOINTS``
and the pydantic classes the handlers validate with."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from forum.api import schemas
from forum.api.routing import ENDPOINTS, Endpoint, Who
from forum.ideas.services import MAX_ID

PREFIX = "/api/v1"
_PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")

ERROR_DESCRIPTIONS = {
    400: "Malformed request (not JSON, not an object, or a missing CSRF header).",
    401: "No identity: sign in, or send a valid, unrevoked token.",
    403: "Not allowed for this account.",
    404: "Unknown (or invisible to the caller).",
    409: "Conflicts with the current state (workflow, closed voting).",
    413: "The body is too large.",
    422: "Invalid fields: `fields` names each one.",
    429: "Too many writes; retry after `Retry-After` seconds.",
    501: "This feature is not available yet on this site.",
}
WHO_TEXT = {
    Who.ANYONE: "Anyone who can see the board (no identity needed).",
    Who.SIGNED_IN: "Signed in: a token, or the browser session with X-CSRFToken on writes.",
    Who.STAFF: "Staff only.",
}


def _item_model(kind: Any) -> tuple[type[BaseModel], bool]:
    """(model, is_list) for a response type ``Model`` or ``list[Model]``."""
    if get_origin(kind) is list:
        return get_args(kind)[0], True
    return kind, False


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    from forum.webhooks.events import deliveries

    events = deliveries()
    pairs: list[tuple[type[BaseModel], str]] = [(schemas.Error, "serialization")]
    pairs += [(model, "serialization") for model in events.values()]
    for ep in ENDPOINTS:
        if ep.body is not None:
            pairs.append((ep.body, "validation"))
        for kind in ep.responses.values():
            pairs.append((_item_model(kind)[0], "serialization"))
    refs, definitions = models_json_schema(list(dict.fromkeys(pairs)),
                                           ref_template="#/components/schemas/{model}")

    paths: dict[str, dict[str, Any]] = {}
    for ep in ENDPOINTS:
        path = _PATH_PARAM.sub(r"{\2}", ep.rule.removeprefix(PREFIX))
        paths.setdefault(path, {})[ep.method.lower()] = _operation(ep, refs)

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Feedback forum API",
            "version": "1.0.0",
            "description": (
                "Read and write ideas, votes, comments and statuses. Authenticate with "
                "`Authorization: Bearer <token>` (create one on your account page or with "
                "`flask forum create-token EMAIL`), or with the browser session, in which "
                "case writes need the `X-CSRFToken` header. Every error is "
                '`{"error": "<code>", "message": "<sentence>"}`, with `fields` on 422.'
            ),
        },
        "servers": [{"url": PREFIX}],
        "tags": [{"name": name} for name in dict.fromkeys(ep.tag for ep in ENDPOINTS)],
        "paths": paths,
        # What the forum posts to the admins' outgoing webhooks (README, "Webhooks").
        "webhooks": {event: _webhook(event, refs[(model, "serialization")])
                     for event, model in events.items()},
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An API token from the account page."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The browser session; writes also need the "
                                           "X-CSRFToken header."},
            },
        },
    }


def _operation(ep: Endpoint, refs: dict) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": ep.name,
        "summary": ep.summary,
        "description": " ".join(filter(None, [ep.description, WHO_TEXT[ep.who]])),
        "tags": [ep.tag],
        "x-who": ep.who.value,
        "parameters": _parameters(ep),
        "responses": {},
    }
    authenticated = [{"bearer": []}, {"session": []}]
    operation["security"] = authenticated if ep.who is not Who.ANYONE else [{}, *authenticated]
    if ep.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(ep.body, "validation")]}},
        }
    for status, kind in ep.responses.items():
        model, is_list = _item_model(kind)
        ref = refs[(model, "serialization")]
        response: dict[str, Any] = {
            "description": "Created" if status == 201 else "OK",
            "content": {"application/json": {
                "schema": {"type": "array", "items": ref} if is_list else ref}},
        }
        if status == 201:
            response["headers"] = {"Location": {
                "description": "The URL of what was created.", "schema": {"type": "string"}}}
        operation["responses"][str(status)] = response
    error_ref = refs[(schemas.Error, "serialization")]
    for status in ep.errors:
        response = {"description": ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": error_ref}}}
        if status == 429:
            response["headers"] = {"Retry-After": {
                "description": "Seconds to wait.", "schema": {"type": "string"}}}
        operation["responses"][str(status)] = response
    return operation


def _webhook(event: str, ref: dict) -> dict[str, Any]:
    signed = {"required": True, "schema": {"type": "string"}}
    return {"post": {
        "operationId": "webhook_" + event.replace(".", "_"),
        "summary": f"The {event} event, posted to subscribed webhooks",
        "parameters": [
            {"name": "X-Forum-Event", "in": "header", **signed},
            {"name": "X-Forum-Delivery", "in": "header", **signed,
             "description": "The delivery id, the same on every retry."},
            {"name": "X-Forum-Signature", "in": "header", **signed,
             "description": "t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.\" + body>"},
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
        "responses": {"2XX": {"description": "Received; any other answer is retried."}},
    }}


def _parameters(ep: Endpoint) -> list[dict[str, Any]]:
    parameters = []
    for converter, name in _PATH_PARAM.findall(ep.rule):
        schema = ({"type": "integer", "minimum": 0, "maximum": MAX_ID} if converter == "int"
                  else {"type": "string"})
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if ep.query is not None:
        query_schema = ep.query.model_json_schema(mode="validation")
        required = set(query_schema.get("required", []))
        for name, prop in query_schema["properties"].items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            # `str | None` means "may be left out"; a query string cannot carry a null.
            options = [o for o in prop.pop("anyOf", []) if o.get("type") != "null"]
            if options:
                prop = {**options[0], **prop}
            if prop.get("default", "") is None:
                del prop["default"]
            parameter = {"name": name, "in": "query", "required": name in required,
                         "schema": prop}
            if "description" in prop:
                parameter["description"] = prop.pop("description")
            parameters.append(parameter)
    return parameters


def describe(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The document flattened for the readable API page: one entry per call, with the fields
    of its parameters, body and first success response."""
    definitions = spec["components"]["schemas"]
    calls = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            success = next(code for code in op["responses"] if code.startswith("2"))
            returns = op["responses"][success]["content"]["application/json"]["schema"]
            calls.append({
                "method": method.upper(), "path": PREFIX + path, "summary": op["summary"],
                "description": op["description"], "who": op["x-who"], "tag": op["tags"][0],
                "parameters": [
                    {"name": p["name"], "where": p["in"], "type": _type_name(p["schema"]),
                     "required": p["required"], "description": p.get("description", "")}
                    for p in op["parameters"]],
                "body": fields_of(body.get("schema"), definitions),
                "success": success,
                "returns": _type_name(returns),
                "errors": [code for code in op["responses"] if not code.startswith("2")],
            })
    order = [t["name"] for t in spec["tags"]]
    return sorted(calls, key=lambda c: order.index(c["tag"]))


def _type_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type_name(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type_name(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    if "const" in schema:
        return str(schema["const"])
    return str(schema.get("type", "any"))


def fields_of(schema: dict[str, Any] | None, definitions: dict[str, Any]) -> list[dict[str, Any]]:
    if not schema:
        return []
    resolved = definitions[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
    required = set(resolved.get("required", []))
    return [{"name": name, "type": _type_name(prop), "required": name in required,
             "description": prop.get("description", "")}
            for name, prop in resolved.get("properties", {}).items()]
