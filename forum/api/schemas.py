"""What the API accepts and returns, kept off the models.

The same pydantic classes validate requests, build responses and produce the OpenAPI document
(``forum.api.openapi``), so the published schema cannot drift from the code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from forum.accounts.services import NAME_MAX
from forum.ideas.services import BODY_MAX, COMMENT_MAX, MAX_ID, TITLE_MAX, TITLE_MIN

Sort = Literal["top", "new", "trending", "activity"]
OnBehalfSource = Literal["support", "sales", "import"]


class Input(BaseModel):
    # A misspelt field ("titel") is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class Query(BaseModel):
    # Query strings often carry tracking or cache-busting extras; those are ignored.
    model_config = ConfigDict(extra="ignore")


def _no_null_default(schema: dict) -> None:
    # Fields left out of the JSON when unset are declared with a None default; the document
    # must not advertise null where the type forbids it.
    schema.pop("default", None)


class Output(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# --- input ---------------------------------------------------------------------------------

class IdeaListQuery(Query):
    q: str | None = Field(None, max_length=200, description="Full-text search.")
    board: str | None = Field(None, max_length=60, description="Board slug.")
    status: str | None = Field(None, max_length=40, description="Status slug.")
    tag: str | None = Field(None, max_length=40, description="Tag slug.")
    sort: Sort = Field("top", description="Order of the list.")
    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=100)


class IdeaIn(Input):
    title: str = Field(min_length=TITLE_MIN, max_length=TITLE_MAX)
    body: str = Field(max_length=BODY_MAX, description="Markdown; may be empty.")
    board: str | None = Field(None, max_length=60,
                              description="Board slug; the first board you can see if left out.")
    tags: list[str] = Field(default_factory=list, max_length=20, description="Tag slugs.")


class IdeaPatch(Input):
    title: str | None = Field(None, min_length=TITLE_MIN, max_length=TITLE_MAX)
    body: str | None = Field(None, max_length=BODY_MAX, description="Markdown.")
    board: str | None = Field(None, max_length=60, description="Board slug.")
    tags: list[str] | None = Field(None, max_length=20,
                                   description="Tag slugs; replaces the idea's tags.")


class VoteOnBehalfIn(Input):
    email: str = Field(min_length=3, max_length=254,
                       description="The customer's address; an account is created if unknown.")
    source: OnBehalfSource = "support"
    tell: bool = Field(False, description="Email the customer that their vote was added "
                                          "(with a link to claim an account made for them).")


class StatusChangeIn(Input):
    status: str = Field(min_length=1, max_length=40, description="Status slug.")
    note: str = Field("", max_length=BODY_MAX,
                      description="Public note to the voters; required for closing statuses.")


class MergeIn(Input):
    into: int = Field(ge=1, le=MAX_ID,
                      description="The id of the idea that stays (the canonical idea).")


class CommentIn(Input):
    body: str = Field(min_length=1, max_length=COMMENT_MAX, description="Markdown.")
    internal: bool = Field(False, description="A note only the team sees (staff only).")


class SimilarQuery(Query):
    title: str = Field("", max_length=TITLE_MAX)
    body: str = Field("", max_length=BODY_MAX)
    limit: int = Field(5, ge=1, le=20)


# --- output --------------------------------------------------------------------------------

class Person(Output):
    id: int
    name: str = Field(max_length=NAME_MAX)


class IdeaOut(Output):
    id: int
    title: str
    body: str = Field(description="Markdown source.")
    body_html: str = Field(description="The body rendered to safe HTML.")
    status: str = Field(description="Status slug.")
    board: str = Field(description="Board slug.")
    tags: list[str] = Field(description="Tag slugs.")
    votes: int = Field(ge=0)
    comments: int = Field(ge=0)
    author: Person
    created_at: datetime
    updated_at: datetime
    merged_into: int | None = Field(description="The canonical idea's id when merged.")
    merged: list[int] = Field(description="Ids of the ideas merged into this one.")
    url: str = Field(description="The idea's page.")
    # Left out of the JSON entirely for anonymous callers, so it is never null.
    voted: SkipJsonSchema[None] | bool = Field(
        None, description="Whether the caller counts among the voters (signed-in callers only).",
        json_schema_extra=_no_null_default,
    )


class IdeaPage(Output):
    items: list[IdeaOut]
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    per_page: int = Field(ge=1)


class VoteState(Output):
    voted: bool
    votes: int = Field(ge=0)


class Voter(Output):
    email: str
    name: str
    source: str = Field(description="web, suggested (on the web, picked among the similar "
                                    "ideas shown while posting), api, support, sales or "
                                    "import.")
    voted_at: datetime


class StatusChangeResult(Output):
    idea: IdeaOut
    notified: int = Field(ge=0, description="How many people were told.")


class CommentOut(Output):
    id: int
    idea: int = Field(description="The id of the idea the comment is on.")
    body: str
    body_html: str
    author: Person
    internal: bool
    created_at: datetime


class SimilarIdea(Output):
    id: int
    title: str
    status: str
    votes: int = Field(ge=0)
    score: float
    url: str


class StatusOut(Output):
    slug: str
    name: str
    kind: Literal["open", "active", "complete", "closed"]
    color: str
    on_roadmap: bool


class BoardOut(Output):
    slug: str
    name: str
    description: str
    visibility: Literal["public", "members", "staff"]


class TagOut(Output):
    slug: str
    name: str
    color: str


class HistoryEntry(Output):
    from_: str | None = Field(alias="from", description="Status slug before (null at first).")
    to: str = Field(description="Status slug after.")
    note: str
    by: Person | None = Field(description="Who moved it (null for scripts without --by).")
    at: datetime


class Error(Output):
    error: str = Field(description="A stable code: bad_request, unauthorized, forbidden, …")
    message: str = Field(description="A sentence for people.")
    fields: SkipJsonSchema[None] | dict[str, str] = Field(
        None, description="Per-field reasons (422 only).", json_schema_extra=_no_null_default
    )
