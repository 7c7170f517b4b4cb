"""Declaring an API call once: its route, who may call it, what it accepts and returns.

``endpoint`` registers the Flask route and records the declaration in ``ENDPOINTS``, from which
``forum.api.openapi`` writes the OpenAPI document. Input is validated here with the declared
pydantic classes before the handler runs; output is dumped with the declared response type.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticError

from forum import dbtuning, pagecache
from forum.errors import DomainError, NotAllowed, ValidationError


class Who(enum.StrEnum):
    ANYONE = "anyone"
    SIGNED_IN = "signed in"
    STAFF = "staff"


class BadRequest(DomainError):
    status_code = 400
    code = "bad_request"


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthorized"


@dataclass
class Endpoint:
    method: str
    rule: str
    name: str
    summary: str
    description: str
    who: Who
    tag: str
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    responses: dict[int, Any]
    errors: tuple[int, ...]


ENDPOINTS: list[Endpoint] = []
_ADAPTERS: dict[Any, TypeAdapter] = {}


def adapter(kind: Any) -> TypeAdapter:
    if kind not in _ADAPTERS:
        _ADAPTERS[kind] = TypeAdapter(kind)
    return _ADAPTERS[kind]


def endpoint(bp: Blueprint, method: str, rule: str, *, summary: str, who: Who, tag: str,
             ok: tuple[int, Any], also: dict[int, Any] | None = None,
             query: type[BaseModel] | None = None, body: type[BaseModel] | None = None,
             errors: tuple[int, ...] = (), description: str = "",
             for_visitors: bool = False, reads_first: bool = False) -> Callable:
    """Register ``handler`` for ``method rule``. The handler receives the path arguments plus
    ``query=``/``body=`` (validated models) and returns the response value, or a tuple
    ``(value, status, headers)``. ``for_visitors``: a GET whose answer callers without a token
    are served from ``forum.pagecache`` while the database is unchanged. ``reads_first``: a
    write whose handler reads in a deferred transaction and calls ``dbtuning.begin_writing``
    before it writes."""

    def decorate(handler: Callable) -> Callable:
        statuses = {ok[0]: ok[1], **(also or {})}

        @wraps(handler)
        def view(**path: Any) -> Response:
            require(who)
            kwargs: dict[str, Any] = dict(path)
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body)
            result = handler(**kwargs)
            value, status, headers = result if isinstance(result, tuple) else (result, ok[0], {})
            dumped = adapter(statuses.get(status, ok[1])).dump_python(
                value, mode="json", by_alias=True, exclude_unset=True)
            response = jsonify(dumped)
            response.status_code = status
            response.headers.update(headers)
            return response

        served = pagecache.for_visitors(view) if for_visitors else view
        if reads_first:
            served = dbtuning.reads_first(served)
        bp.add_url_rule(rule, endpoint=handler.__name__, view_func=served, methods=[method])
        # Any call may meet a bad token (401), a suspended account (403) or a NUL character in
        # its address (400, refused before routing).
        implied = {400, 401, 403}
        if method != "GET":
            implied |= {413, 429}
        if query is not None or body is not None:
            implied |= {422}
        if "<" in rule:
            implied |= {404}
        ENDPOINTS.append(Endpoint(
            method=method, rule=bp.url_prefix + rule, name=handler.__name__, summary=summary,
            description=description, who=who, tag=tag, query=query, body=body,
            responses=statuses, errors=tuple(sorted(implied | set(errors))),
        ))
        return view

    return decorate


def require(who: Who) -> None:
    if who is Who.ANYONE:
        return
    if not current_user.is_authenticated:
        raise Unauthenticated("Sign in or send an API token (Authorization: Bearer …).")
    if who is Who.STAFF and not current_user.is_staff:
        raise NotAllowed("Only the team can do this.")


def parse_query(model: type[BaseModel]) -> BaseModel:
    # An empty parameter (`?q=`) means "not given", as in HTML forms.
    values = {k: v for k, v in request.args.items() if v != ""}
    try:
        return model.model_validate(values)
    except PydanticError as error:
        raise _invalid(error) from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    if not request.is_json:
        raise BadRequest("Send a JSON body with Content-Type: application/json.")
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except PydanticError as error:
        raise _invalid(error) from None


def _invalid(error: PydanticError) -> ValidationError:
    fields: dict[str, str] = {}
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else "body"
        reason = "Unknown field." if problem["type"] == "extra_forbidden" else problem["msg"]
        fields.setdefault(name, reason)
    return ValidationError("Some fields are not valid.", fields)
