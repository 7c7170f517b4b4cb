"""The staff idea list's filters: parsed from the query string (so a filter is a link, and a
saved view is just that link's query), turned into one ``select()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy import Select, func, nulls_last, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from forum.accounts.models import User
from forum.ideas.models import Board, Idea, Status, Tag, Vote, idea_tags

SORTS = {
    "new": (Idea.created_at.desc(), Idea.id.desc()),
    "old": (Idea.created_at.asc(), Idea.id.asc()),
    "top": (Idea.vote_count.desc(), Idea.id.desc()),
    "trending": (Idea.trending_score.desc(), Idea.id.desc()),
    "activity": (Idea.last_activity_at.desc(), Idea.id.desc()),
}
SORT_NAMES = ("new", "old", "top", "trending", "activity", "value")
KEYS = ("inbox", "board", "status", "tag", "owner", "from", "to", "min_votes", "voter", "sort",
        "hidden")


@dataclass
class IdeaFilter:
    inbox: bool = False
    board: str = ""
    status: str = ""
    tag: str = ""
    owner: str = ""  # a staff member's id, or "none" for ideas nobody owns
    date_from: date | None = None
    date_to: date | None = None
    min_votes: int | None = None
    voter: str = ""  # a customer's email
    sort: str = "new"
    hidden: bool = False  # include hidden ideas
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: MultiDict) -> IdeaFilter:
        f = cls(inbox=args.get("inbox") == "1", board=args.get("board", "").strip(),
                status=args.get("status", "").strip(), tag=args.get("tag", "").strip(),
                owner=args.get("owner", "").strip(), voter=args.get("voter", "").strip(),
                hidden=args.get("hidden") == "1")
        f.sort = args.get("sort", "new") if args.get("sort") in SORT_NAMES else "new"
        f.date_from = f._date(args, "from")
        f.date_to = f._date(args, "to")
        votes = args.get("min_votes", "").strip()
        if votes:
            if votes.isdigit():
                f.min_votes = int(votes)
            else:
                f.errors["min_votes"] = "A whole number."
        return f

    def _date(self, args: MultiDict, key: str) -> date | None:
        value = args.get(key, "").strip()
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors[key] = "A date like 2026-11-23."
            return None

    def query_string(self, **override: str) -> str:
        values = {"inbox": "1" if self.inbox else "", "board": self.board, "status": self.status,
                  "tag": self.tag, "owner": self.owner,
                  "from": self.date_from.isoformat() if self.date_from else "",
                  "to": self.date_to.isoformat() if self.date_to else "",
                  "min_votes": "" if self.min_votes is None else str(self.min_votes),
                  "voter": self.voter, "sort": self.sort if self.sort != "new" else "",
                  "hidden": "1" if self.hidden else ""}
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v})

    @property
    def active(self) -> bool:
        return bool(self.query_string(sort="", inbox=""))


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def staff_query(f: IdeaFilter) -> Select:
    """Canonical ideas of every board (staff see them all), filtered and sorted."""
    query = select(Idea).where(Idea.merged_into_id.is_(None)).options(
        selectinload(Idea.tags), selectinload(Idea.owner))
    if not f.hidden:
        query = query.where(Idea.hidden_at.is_(None))
    if f.inbox:
        query = query.where(Idea.staff_acted_at.is_(None))
    if f.board:
        query = query.where(Idea.board_id.in_(select(Board.id).where(Board.slug == f.board)))
    if f.status:
        query = query.where(Idea.status_id.in_(select(Status.id).where(Status.slug == f.status)))
    if f.tag:
        query = query.where(Idea.id.in_(
            select(idea_tags.c.idea_id).join(Tag, Tag.id == idea_tags.c.tag_id)
            .where(Tag.slug == f.tag)))
    if f.owner == "none":
        query = query.where(Idea.owner_id.is_(None))
    elif f.owner.isdigit():
        query = query.where(Idea.owner_id == int(f.owner))
    if f.date_from:
        query = query.where(Idea.created_at >= _start(f.date_from))
    if f.date_to:
        query = query.where(Idea.created_at < _start(f.date_to + timedelta(days=1)))
    if f.min_votes is not None:
        query = query.where(Idea.vote_count >= f.min_votes)
    if f.voter:
        # A vote on a merged duplicate counts on its canonical idea, so look through merges.
        voted = (select(func.coalesce(Idea.merged_into_id, Idea.id))
                 .join(Vote, Vote.idea_id == Idea.id).join(User, User.id == Vote.user_id)
                 .where(func.lower(User.email) == f.voter.lower()))
        query = query.where(Idea.id.in_(voted))
    if f.sort == "value":
        # The same formula as forum.triage.priority, in SQL so the database sorts and pages.
        score = Idea.vote_count * Idea.impact * 1.0 / Idea.effort
        return query.order_by(nulls_last(score.desc()), Idea.vote_count.desc(), Idea.id.desc())
    return query.order_by(*SORTS[f.sort])
