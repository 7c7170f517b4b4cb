"""The API calls whose features are built in other areas and have not landed yet.

Each function here is the single point where its handler in ``forum.api.views`` meets the
feature's service. Until the service exists it answers 501 with the error shape: never a fake
success. Wiring a feature in means replacing one function body here with the service call
(the handler already checks who may call, validates the input and serialises the result).
"""

from __future__ import annotations

from sqlalchemy import Select

from forum.accounts.models import User
from forum.errors import DomainError
from forum.ideas.models import Idea


class NotImplementedYet(DomainError):
    status_code = 501
    code = "not_implemented"


def merge(idea: Idea, into: Idea, by: User) -> Idea:
    """Merge ``idea`` into ``into``; return the canonical idea (forum.triage merge_ideas)."""
    raise NotImplementedYet("Merging ideas through the API is not available yet.")


def unmerge(idea: Idea, by: User) -> Idea:
    """Split ``idea`` off its canonical idea; return the former canonical idea."""
    raise NotImplementedYet("Unmerging ideas through the API is not available yet.")


def similar(title: str, body: str, limit: int, viewer: User | None) -> list[tuple[Idea, float]]:
    """Canonical ideas like this text, best first, with their score (forum.search.duplicates)."""
    raise NotImplementedYet("Finding similar ideas is not available yet.")


def search(query: Select, q: str) -> Select:
    """Narrow an idea_list query to full-text matches of ``q`` (forum.search)."""
    raise NotImplementedYet("Searching ideas with q= is not available yet.")
