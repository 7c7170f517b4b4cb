"""Where API handlers meet services of other areas (merging, search).

Each function is the single point where its handler in ``forum.api.views`` calls the feature's
service; the handler has already checked who may call, validated the input and will serialise
the result.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from forum.accounts.models import User
from forum.extensions import db
from forum.ideas import merging
from forum.ideas.models import Idea
from forum.search import service as search_service

# A full-text filter narrows a list to at most this many matches, best first; the list's own
# sort then orders them. Enough for any person paging through results.
SEARCH_MATCH_CAP = 1000


def merge(idea: Idea, into: Idea, by: User) -> Idea:
    """Merge ``idea`` into ``into``; return the canonical idea."""
    return merging.merge_ideas(idea, into, by)


def unmerge(idea: Idea, by: User) -> Idea:
    """Split ``idea`` off its canonical idea; return the former canonical idea."""
    return merging.unmerge_idea(idea, by)


def similar(title: str, body: str, limit: int, viewer: User | None) -> list[tuple[Idea, float]]:
    """Canonical ideas like this text, best first, with their score (the same code that
    serves suggestions while typing)."""
    items = search_service.similar_ideas(title, body, viewer, limit=limit)
    found = {idea.id: idea for idea in db.session.scalars(
        select(Idea).where(Idea.id.in_([item["id"] for item in items]))).unique()}
    return [(found[item["id"]], item["score"]) for item in items if item["id"] in found]


def search(query: Select, q: str, viewer: User | None) -> Select:
    """Narrow an idea_list query to full-text matches of ``q`` (boards the viewer may see)."""
    page = search_service.search_ideas(q, viewer, per_page=SEARCH_MATCH_CAP)
    return query.where(Idea.id.in_([result.idea.id for result in page.items]))
