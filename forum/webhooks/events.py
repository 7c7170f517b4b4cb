"""The events an endpoint can subscribe to, and the JSON each one posts.

The resources inside are the JSON API's own schemas (``forum.api.schemas``), built by the same
``forum.api.present`` functions, so a tool that reads the API reads webhooks too::

    {"event": "idea.status_changed", "delivery": "<uuid>", "occurred_at": "<ISO 8601>",
     "data": {"idea": Idea, "change": HistoryEntry}}
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from flask_babel import lazy_gettext as _l
from pydantic import BaseModel, Field, create_model

from forum.api import present, schemas

IDEA_CREATED = "idea.created"
IDEA_STATUS_CHANGED = "idea.status_changed"
IDEA_MERGED = "idea.merged"
VOTE_CREATED = "vote.created"
COMMENT_CREATED = "comment.created"
PING = "ping"  # the admin page's "send a test event"; not subscribable

EVENTS: dict[str, Any] = {
    IDEA_CREATED: _l("An idea is posted"),
    IDEA_STATUS_CHANGED: _l("An idea’s status changes"),
    IDEA_MERGED: _l("An idea is merged into another"),
    VOTE_CREATED: _l("Someone votes"),
    COMMENT_CREATED: _l("Someone comments (never internal notes)"),
}


class IdeaEvent(schemas.Output):
    idea: schemas.IdeaOut


class StatusChangedEvent(schemas.Output):
    idea: schemas.IdeaOut
    change: schemas.HistoryEntry


class MergedEvent(schemas.Output):
    idea: schemas.IdeaOut = Field(description="The idea that stays (the canonical idea).")
    merged: schemas.IdeaOut = Field(description="The duplicate merged into it.")


class VoteEvent(schemas.Output):
    idea: schemas.IdeaOut = Field(description="The idea voted on (the canonical idea).")
    voter: schemas.Person
    source: str = Field(description="web, api, support, sales or import.")


class CommentEvent(schemas.Output):
    idea: schemas.IdeaOut
    comment: schemas.CommentOut


class PingEvent(schemas.Output):
    endpoint: int
    by: schemas.Person


DATA: dict[str, type[BaseModel]] = {
    IDEA_CREATED: IdeaEvent,
    IDEA_STATUS_CHANGED: StatusChangedEvent,
    IDEA_MERGED: MergedEvent,
    VOTE_CREATED: VoteEvent,
    COMMENT_CREATED: CommentEvent,
    PING: PingEvent,
}


def deliveries() -> dict[str, type[BaseModel]]:
    """For the OpenAPI document's ``webhooks``: the whole body of each event, as a model."""
    models = {}
    for event, data in DATA.items():
        name = "".join(part.title() for part in event.replace(".", "_").split("_")) + "Delivery"
        models[event] = create_model(
            name, __base__=schemas.Output,
            event=(Literal[event], ...),  # type: ignore[valid-type]
            delivery=(str, Field(description="Stable across retries: drop repeats by it.")),
            occurred_at=(datetime, ...),
            data=(data, ...),
        )
    return models


def body(event: str, delivery_id: str, occurred_at: datetime, data: BaseModel) -> str:
    """The exact text posted; fixed once, so every retry sends the same bytes."""
    return json.dumps({
        "event": event,
        "delivery": delivery_id,
        "occurred_at": occurred_at.isoformat(),
        "data": data.model_dump(mode="json", by_alias=True, exclude_unset=True),
    }, ensure_ascii=False, separators=(",", ":"))


def idea_created(idea) -> IdeaEvent:
    return IdeaEvent(idea=present.idea(idea, None))


def status_changed(idea, change) -> StatusChangedEvent:
    return StatusChangedEvent(idea=present.idea(idea, None), change=present.history_entry(change))


def merged(canonical, duplicate) -> MergedEvent:
    return MergedEvent(idea=present.idea(canonical, None), merged=present.idea(duplicate, None))


def vote_created(idea, voter, source) -> VoteEvent:
    return VoteEvent(idea=present.idea(idea, None), voter=present.person(voter),
                     source=str(getattr(source, "value", source)))


def comment_created(comment, idea) -> CommentEvent:
    return CommentEvent(idea=present.idea(idea, None), comment=present.comment(comment))


def ping(endpoint_id: int, by) -> PingEvent:
    return PingEvent(endpoint=endpoint_id, by=present.person(by))
