"""Operations on ideas, votes and comments.

Every function changes models, flushes, sends its signal and returns; none commits. The caller
(a view, an API handler, a CLI command) owns the transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy import inspect as sqlalchemy_inspect
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from forum import dbtuning, signals
from forum.accounts import services as accounts
from forum.accounts.models import User
from forum.db import utcnow
from forum.errors import Conflict, NotAllowed, NotFound, ValidationError
from forum.extensions import db
from forum.ideas import queries, ranking, workflow
from forum.ideas.models import (
    Board,
    Comment,
    Idea,
    Status,
    StatusChange,
    Subscription,
    SubscriptionLevel,
    Tag,
    Vote,
    VoteSource,
)
from forum.text import clean_input

TITLE_MIN, TITLE_MAX = 3, 120
BODY_MAX = 20_000
COMMENT_MAX = 10_000
MAX_ID = 2**31 - 1  # ids are PostgreSQL INTEGER columns: a larger number can name nothing


# --- reading -------------------------------------------------------------------------------

def visible_boards(viewer: User | None) -> list[Board]:
    boards = db.session.scalars(select(Board).order_by(Board.position, Board.name)).all()
    signed_in = viewer is not None and viewer.is_authenticated
    staff = signed_in and viewer.is_staff
    return [b for b in boards if workflow.can_see_board(b.visibility, signed_in=signed_in,
                                                        is_staff=staff)]


def get_visible_idea(idea_id: int, viewer: User | None) -> Idea:
    """The idea if this person may see it; hidden boards and hidden ideas answer 'not found'."""
    # A number no database column can hold would raise OverflowError in the driver.
    idea = db.session.get(Idea, idea_id) if 0 < idea_id <= MAX_ID else None
    require_visible(idea, viewer)
    return idea


def require_visible(idea: Idea | None, viewer: User | None) -> None:
    """Refuse (as not found) a missing idea, or one this person may not see. Also after a vote
    has read the idea again under the lock, as it may have been hidden, moved or merged since
    it was first read."""
    if idea is None or not can_see(idea, viewer):
        raise NotFound(_l("No idea with that number."))


def can_see(idea: Idea, viewer: User | None) -> bool:
    signed_in = viewer is not None and viewer.is_authenticated
    staff = signed_in and viewer.is_staff
    if (idea.hidden_at is not None or idea.author.is_banned) and not staff:
        return False
    if idea.merged_into_id is not None and not can_see(idea.merged_into, viewer):
        # The page of a merged idea shows (and votes on) its canonical idea: an idea merged
        # into one on a board this person cannot see would show them that idea's title.
        return False
    return workflow.can_see_board(idea.board.visibility, signed_in=signed_in, is_staff=staff)


def canonical(idea: Idea) -> Idea:
    """Merge chains are flattened on merge, so one hop reaches the canonical idea."""
    return idea.merged_into if idea.merged_into_id is not None else idea


def group_ids(idea: Idea) -> list[int]:
    """The canonical idea and every idea merged into it."""
    merged = db.session.scalars(select(Idea.id).where(Idea.merged_into_id == idea.id)).all()
    return [idea.id, *merged]


def voted_idea_ids(viewer: User | None, ideas: Iterable[Idea]) -> set[int]:
    """Which of these canonical ideas the viewer counts in, in one query."""
    return voted_ids(viewer, [i.id for i in ideas])


def voted_ids(viewer: User | None, ids: Collection[int]) -> set[int]:
    """Which of the canonical ideas numbered ``ids`` the viewer counts in, in one query."""
    if not ids or viewer is None or not viewer.is_authenticated:
        return set()
    canonical_id = func.coalesce(Idea.merged_into_id, Idea.id)
    rows = db.session.scalars(
        select(canonical_id)
        .join(Vote, Vote.idea_id == Idea.id)
        .where(Vote.user_id == viewer.id, canonical_id.in_(list(ids)))
    )
    return set(rows)


def has_voted(viewer: User | None, idea: Idea) -> bool:
    return canonical(idea).id in voted_idea_ids(viewer, [canonical(idea)])


# --- ideas ---------------------------------------------------------------------------------

def _validated_title(title: str) -> str:
    title = " ".join(clean_input(title).split())
    if len(title) < TITLE_MIN:
        raise ValidationError(_l("The title is too short."),
                              {"title": _l("Use at least %(min)d characters.", min=TITLE_MIN)})
    if len(title) > TITLE_MAX:
        raise ValidationError(_l("The title is too long."),
                              {"title": _l("Use at most %(max)d characters.", max=TITLE_MAX)})
    return title


def _validated_body(body: str) -> str:
    body = clean_input(body or "")
    if len(body) > BODY_MAX:
        raise ValidationError(_l("The description is too long."),
                              {"body": _l("Use at most %(max)d characters.", max=BODY_MAX)})
    return body


def default_status() -> Status:
    status = db.session.scalar(select(Status).where(Status.is_default.is_(True)))
    if status is None:  # a site whose admin removed the flag still accepts ideas
        status = db.session.scalar(select(Status).order_by(Status.position))
    if status is None:
        raise Conflict(_l("No status is defined; run `flask db upgrade`."))
    return status


def find_tags(slugs: Iterable[str]) -> list[Tag]:
    """The tags with these slugs (tags are created by admins; an unknown one is an error)."""
    wanted = list(dict.fromkeys(slugs))
    tags = db.session.scalars(select(Tag).where(Tag.slug.in_(wanted))).all() if wanted else []
    unknown = sorted(set(wanted) - {t.slug for t in tags})
    if unknown:
        raise ValidationError(_l("Unknown tag."),
                              {"tags": _l("No tag called %(names)s.", names=", ".join(unknown))})
    return sorted(tags, key=lambda t: t.name)


def submit_idea(author: User, *, title: str, body: str, board: Board,
                tags: list[Tag] | None = None) -> Idea:
    """Post an idea; its author votes for it and follows it."""
    _require_active(author)
    now = utcnow()
    idea = Idea(
        title=_validated_title(title),
        body=_validated_body(body),
        board=board,
        author=author,
        status=default_status(),
        tags=list(tags or []),
        created_at=now,
        updated_at=now,
        last_activity_at=now,
    )
    db.session.add(idea)
    db.session.flush()
    subscribe(idea, author, SubscriptionLevel.ALL)
    cast_vote(idea, author)
    signals.idea_created.send(idea, author=author)
    return idea


def edit_idea(idea: Idea, editor: User, *, title: str, body: str, board: Board | None = None,
              tags: list[Tag] | None = None) -> Idea:
    if not workflow.can_edit_idea(is_staff=editor.is_staff, is_author=idea.author_id == editor.id,
                                  staff_has_acted=idea.staff_acted_at is not None):
        raise NotAllowed(_l("You can no longer edit this idea: the team has already acted on it."))
    changes = {}
    new_title, new_body = _validated_title(title), _validated_body(body)
    if new_title != idea.title:
        changes["title"] = (idea.title, new_title)
        idea.title = new_title
    if new_body != idea.body:
        changes["body"] = (idea.body, new_body)
        idea.body = new_body
    if board is not None and board.id != idea.board_id:
        changes["board"] = (idea.board.slug, board.slug)
        idea.board = board
    if tags is not None and {t.id for t in tags} != {t.id for t in idea.tags}:
        changes["tags"] = ([t.slug for t in idea.tags], [t.slug for t in tags])
        idea.tags = list(tags)
    if changes:
        idea.updated_at = utcnow()
        if editor.is_staff:
            idea.staff_acted_at = idea.staff_acted_at or utcnow()
        db.session.flush()
        signals.idea_edited.send(idea, editor=editor, changes=changes)
    return idea


# --- votes ---------------------------------------------------------------------------------

def cast_vote(idea: Idea, voter: User, *, source: VoteSource = VoteSource.WEB,
              added_by: User | None = None) -> tuple[Idea, bool]:
    """Vote for the idea (for its canonical idea when it was merged). Idempotent.

    Returns the canonical idea and whether a vote was added.

    Written as SQL statements rather than through the unit of work: on SQLite every vote holds
    the database's one write lock from its first write-transaction statement to its commit,
    and the flushes of the ORM (a savepoint for the vote, then the idea's changes) were most of
    that time. The statements are built once (:class:`_VoteSQL`).
    """
    target = _lock(idea, voter)
    _require_active(voter)
    if not workflow.voting_open(target.status.kind):
        raise Conflict(_l("Voting is closed: this idea is %(status)s.",
                          status=status_label(target.status)))
    sql = _vote_sql()
    if db.session.execute(sql.voted, {"idea": target.id, "voter": voter.id}).first() is not None:
        return target, False
    now = utcnow()
    # A concurrent request by the same person that won the race inserted the row: the vote
    # exists, which is exactly what was asked for.
    vote_id = db.session.scalar(sql.add_vote, {
        "idea": target.id, "voter": voter.id, "vote_source": source,
        "added_by": added_by.id if added_by else None, "now": now})
    if vote_id is None:
        return target, False
    _set_counters(target, sql.count_vote, vote_count=target.vote_count + 1,
                  trending_score=ranking.add_vote(target.trending_score, now),
                  last_activity_at=now, updated_at=now)
    _subscribe_if_new(target, voter, SubscriptionLevel.STATUS)
    signals.vote_cast.send(target, voter=voter, vote_id=vote_id, source=source)
    return target, True


def withdraw_vote(idea: Idea, voter: User) -> tuple[Idea, bool]:
    """Remove this person's vote from the idea's group. Idempotent."""
    target = _lock(idea)
    sql = _vote_sql()
    votes = db.session.execute(sql.votes_of, {"idea": target.id, "voter": voter.id}).all()
    if not votes:
        return target, False
    if not workflow.voting_open(target.status.kind):
        raise Conflict(_l("Voting is closed: this idea is %(status)s.",
                          status=status_label(target.status)))
    db.session.execute(sql.delete_votes, {"ids": [v.id for v in votes]})
    score = target.trending_score
    for vote in votes:
        if not ranking.removal_is_exact(score, vote.created_at):
            # The withdrawn vote outweighed the rest beyond float precision: start again from
            # the votes that remain (rare: a fresh vote withdrawn from an idea whose votes are
            # old).
            score = ranking.trending_score(sorted(db.session.scalars(
                sql.vote_times, {"idea": target.id})))
            break
        score = ranking.remove_vote(score, vote.created_at)
    _set_counters(target, sql.uncount_vote, vote_count=max(0, target.vote_count - 1),
                  trending_score=score, updated_at=utcnow())
    signals.vote_withdrawn.send(target, voter=voter)
    return target, True


class _VoteSQL:
    """The statements of a vote, built once per database. Building an ORM statement and its
    cache key cost about 0.15 ms each time, a vote runs six, and on SQLite most of them
    while holding the write lock; a statement built once keeps its cache key, and a Core
    statement skips the ORM's handling of its result. Parameters: ``idea`` (the canonical
    idea), ``voter``."""

    def __init__(self, dialect: str) -> None:
        insert = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}[dialect]
        ideas, votes, subscriptions = Idea.__table__, Vote.__table__, Subscription.__table__
        idea = bindparam("idea", type_=ideas.c.id.type)
        voter = bindparam("voter", type_=votes.c.user_id.type)
        group = select(ideas.c.id).where((ideas.c.id == idea) | (ideas.c.merged_into_id == idea))
        mine = (votes.c.user_id == voter) & votes.c.idea_id.in_(group)
        users, boards = User.__table__, Board.__table__

        def banned(person):
            return select(users.c.is_banned).where(users.c.id == person).scalar_subquery()

        # What the vote's writes and who may see the idea depend on (the voter's ban included):
        # read again under the lock by a vote that read before it (see _lock).
        self.counters = select(
            ideas.c.vote_count, ideas.c.trending_score, ideas.c.status_id,
            ideas.c.merged_into_id, ideas.c.hidden_at, ideas.c.board_id,
            select(boards.c.visibility).where(boards.c.id == ideas.c.board_id)
            .scalar_subquery().label("board_visibility"),
            banned(ideas.c.author_id).label("author_banned"),
            banned(voter).label("voter_banned"),
        ).where(ideas.c.id == idea)
        self.voted = select(votes.c.id).where(mine).limit(1)
        self.votes_of = select(votes.c.id, votes.c.created_at).where(mine)
        self.vote_times = select(votes.c.created_at).where(votes.c.idea_id.in_(group))
        self.add_vote = insert(votes).values(
            idea_id=idea, user_id=voter,
            source=bindparam("vote_source", type_=votes.c.source.type),
            added_by_id=bindparam("added_by", type_=votes.c.added_by_id.type),
            created_at=bindparam("now", type_=votes.c.created_at.type),
        ).on_conflict_do_nothing(index_elements=["idea_id", "user_id"]).returning(votes.c.id)
        self.delete_votes = delete(votes).where(votes.c.id.in_(bindparam("ids", expanding=True)))
        self.follow = insert(subscriptions).values(
            idea_id=idea, user_id=voter,
            level=bindparam("level", type_=subscriptions.c.level.type),
            created_at=bindparam("now", type_=subscriptions.c.created_at.type),
        ).on_conflict_do_nothing(index_elements=["idea_id", "user_id"])

        def counters_update(*names: str):
            # Each column from the parameter ``new_<name>``: a parameter may not take the name
            # of a column it sets.
            return update(ideas).where(ideas.c.id == idea).values(
                {name: bindparam(f"new_{name}", type_=ideas.c[name].type) for name in names})

        counted = ("vote_count", "trending_score", "updated_at")
        self.count_vote = counters_update(*counted, "last_activity_at")
        self.uncount_vote = counters_update(*counted)


@functools.cache
def _vote_sql_for(dialect: str) -> _VoteSQL:
    return _VoteSQL(dialect)


def _vote_sql() -> _VoteSQL:
    return _vote_sql_for(db.session.get_bind().dialect.name)


def _set_counters(target: Idea, statement, **values: object) -> None:
    """Write the canonical idea's counters (``statement`` is one of _VoteSQL's updates, of
    these columns), read under the lock of :func:`_lock`, and keep the loaded object in step
    (the caller answers with them) without a flush."""
    db.session.execute(statement, {"idea": target.id,
                                   **{f"new_{name}": value for name, value in values.items()}})
    for name, value in values.items():
        set_committed_value(target, name, value)


def vote_on_behalf(idea: Idea, email: str, *, source: VoteSource, by: User, name: str = "",
                   tell: bool = False) -> tuple[Idea, Vote, bool]:
    """Staff record a customer's vote (met at support, sales, or imported). The customer is
    found by email, or created without a password so they can claim the account later; with
    ``tell`` they get an email saying so (with a link to claim the account).

    Returns the canonical idea, the customer's vote and whether it was added just now.
    """
    if not by.is_staff:
        raise NotAllowed(_l("Only the team can vote on behalf of a customer."))
    if source not in (VoteSource.SUPPORT, VoteSource.SALES, VoteSource.IMPORT):
        raise ValidationError(_l("Say where this vote came from."),
                              {"source": _l("Use support, sales or import.")})
    address = accounts.normalise_email(email)
    voter = accounts.find_by_email(address)
    if voter is None:
        voter = accounts.register(email=address, name=name, password=None)
    if tell and not can_see(canonical(idea), voter):
        raise ValidationError(
            _l("%(email)s cannot see this idea (it is for the team only or hidden): add the "
               "vote without telling them.", email=address),
            {"tell": _l("They cannot see this idea.")})
    target, added = cast_vote(idea, voter, source=source, added_by=by)
    vote = db.session.scalar(
        select(Vote).where(Vote.user_id == voter.id, Vote.idea_id.in_(group_ids(target)))
        .order_by(Vote.created_at).limit(1)
    )
    if added:
        signals.vote_added_on_behalf.send(target, voter=voter, by=by, source=source, tell=tell)
    return target, vote, added


def voters(idea: Idea) -> list[Vote]:
    """One vote per person who counts in the canonical idea's group, earliest first."""
    target = canonical(idea)
    votes = db.session.scalars(
        select(Vote).where(Vote.idea_id.in_(group_ids(target)))
        .order_by(Vote.created_at, Vote.id)
    ).all()
    seen: set[int] = set()
    unique = []
    for vote in votes:
        if vote.user_id not in seen:
            seen.add(vote.user_id)
            unique.append(vote)
    return unique


def merged_ids(ideas: Iterable[Idea]) -> dict[int, list[int]]:
    """For each idea, the ids of the ideas merged into it, in one query."""
    ids = [i.id for i in ideas]
    found: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for into, merged in db.session.execute(
            select(Idea.merged_into_id, Idea.id).where(Idea.merged_into_id.in_(ids))
            .order_by(Idea.id)
        ):
            found[into].append(merged)
    return found


def _lock(idea: Idea, voter: User | None = None) -> Idea:
    """The canonical idea of ``idea``, re-read under a row lock held until the commit.

    Every change to an idea's counters goes through here, so concurrent votes from any number
    of processes apply one after the other to fresh values: no lost update. On PostgreSQL this
    is ``SELECT … FOR UPDATE OF ideas`` (only the idea's row: its board, status and author,
    joined for display, stay unlocked); on SQLite write transactions are already serialised by
    BEGIN IMMEDIATE (forum.dbtuning). An idea merged while we waited is followed to its new
    canonical idea (merge chains are flat, so this ends).

    ``voter``: on SQLite, after ``dbtuning.begin_writing``, whether this person is banned is
    read again too, as any other write request reads the person under the lock (a ban
    committed while a vote waited stops it).
    """
    target = canonical(idea)
    if db.session.get_bind().dialect.name == "sqlite" and target.merged_into_id is None \
            and target in db.session and not db.session.is_modified(target):
        if db.session.info.get(dbtuning.READ_BEFORE_WRITING):
            # Read before this transaction began (dbtuning.begin_writing): its counters again,
            # now under the lock, in one narrow statement with what decides who may see it.
            # When any of that changed meanwhile (merged, moved to another status or board,
            # hidden, its board or author changed), the full reading below follows, so that
            # the caller and the vote's signal receivers (a webhook goes to public endpoints
            # only for a public idea) see the idea as it is now.
            fresh = db.session.execute(_vote_sql().counters, {
                "idea": target.id, "voter": voter.id if voter is not None else None}).one()
            if voter is not None and fresh.voter_banned is not None:
                set_committed_value(voter, "is_banned", fresh.voter_banned)
            if (fresh.merged_into_id, fresh.status_id, fresh.hidden_at, fresh.board_id,
                    fresh.board_visibility, fresh.author_banned) == (
                    None, target.status_id, target.hidden_at, target.board_id,
                    target.board.visibility, target.author.is_banned):
                set_committed_value(target, "vote_count", fresh.vote_count)
                set_committed_value(target, "trending_score", fresh.trending_score)
                return target
        else:
            # SQLite write transactions begin IMMEDIATE (forum.dbtuning): the lock was taken
            # before this transaction's first read, and objects of earlier transactions were
            # expired at their end, so ``target`` was read under the lock already. Reading it
            # again cost a query inside the lock on every vote.
            if "vote_count" in sqlalchemy_inspect(target).unloaded:
                db.session.refresh(target)
            return target
    while True:
        target = db.session.scalars(
            select(Idea).where(Idea.id == target.id).with_for_update(of=Idea)
            .execution_options(populate_existing=True)
        ).one()
        if target.merged_into_id is None:
            return target
        target = db.session.get_one(Idea, target.merged_into_id)


def count_votes(idea: Idea) -> int:
    """The truth the stored vote_count must equal: distinct voters of the group."""
    return db.session.scalar(
        select(func.count(func.distinct(Vote.user_id))).where(Vote.idea_id.in_(group_ids(idea)))
    ) or 0


# --- comments and subscriptions ------------------------------------------------------------

def post_comment(idea: Idea, author: User, body: str, *, internal: bool = False) -> Comment:
    _require_active(author)
    if internal and not author.is_staff:
        raise NotAllowed(_l("Only the team can write internal notes."))
    text = clean_input(body or "")
    if not text:
        raise ValidationError(_l("The comment is empty."), {"body": _l("Write something first.")})
    if len(text) > COMMENT_MAX:
        raise ValidationError(_l("The comment is too long."),
                              {"body": _l("Use at most %(max)d characters.", max=COMMENT_MAX)})
    target = canonical(idea)
    comment = Comment(idea=target, author=author, body=text, is_internal=internal)
    db.session.add(comment)
    if not internal:
        # Atomic in SQL so that two concurrent comments both count.
        db.session.execute(
            update(Idea).where(Idea.id == target.id)
            .values(comment_count=Idea.comment_count + 1, last_activity_at=utcnow())
        )
        subscribe(target, author, SubscriptionLevel.ALL)
    if author.is_staff and target.staff_acted_at is None:
        target.staff_acted_at = utcnow()
    db.session.flush()
    db.session.refresh(target, ["comment_count", "last_activity_at"])
    signals.comment_posted.send(comment, idea=target, author=author)
    return comment


def readable_comment():
    """SQL truth value on ``comments``: a customer can read it (public, not hidden, its author
    not banned). ``Idea.comment_count`` counts these, so no count names what they cannot read."""
    return (Comment.is_internal.is_(False) & Comment.hidden_at.is_(None)
            & Comment.author_id.not_in(queries.banned_ids()))


def recount_comments(idea_ids: Iterable[int]) -> None:
    """After a comment is hidden or shown, or its author banned or let back in."""
    ids = list(idea_ids)
    if ids:
        db.session.execute(
            update(Idea).where(Idea.id.in_(ids)).values(comment_count=select(func.count())
                .where(Comment.idea_id == Idea.id, readable_comment()).scalar_subquery())
            .execution_options(synchronize_session=False))
        for idea in db.session.scalars(select(Idea).where(Idea.id.in_(ids))):
            db.session.refresh(idea, ["comment_count"])


def visible_comments(idea: Idea, viewer: User | None) -> list[Comment]:
    staff = viewer is not None and viewer.is_authenticated and viewer.is_staff
    query = select(Comment).where(Comment.idea_id == idea.id).order_by(Comment.created_at,
                                                                       Comment.id)
    if not staff:
        query = query.where(Comment.is_internal.is_(False), Comment.hidden_at.is_(None),
                            Comment.author_id.not_in(queries.banned_ids()))
    return list(db.session.scalars(query))


def subscribe(idea: Idea, user: User, level: SubscriptionLevel) -> Subscription:
    """Raise a subscription to ``level``; never lowers one, never overrides a chosen 'none'."""
    query = select(Subscription).where(Subscription.idea_id == idea.id,
                                       Subscription.user_id == user.id)
    sub = db.session.scalar(query)
    if sub is None:
        try:
            with db.session.begin_nested():
                sub = Subscription(idea_id=idea.id, user_id=user.id, level=level)
                db.session.add(sub)
            return sub
        except IntegrityError:
            # The same person's concurrent request (a follow beside a vote) inserted it first.
            sub = db.session.scalar(query)
            if sub is None:
                raise
    if sub.level == SubscriptionLevel.STATUS and level == SubscriptionLevel.ALL:
        sub.level = level
    return sub


def _subscribe_if_new(idea: Idea, user: User, level: SubscriptionLevel) -> None:
    """A subscription at ``level`` unless the person already has one (at any level, 'none'
    included): what :func:`subscribe` does for STATUS, the lowest level that follows, in one
    INSERT … ON CONFLICT DO NOTHING instead of a read, a savepoint and a write, which every
    vote used to spend while holding SQLite's write lock."""
    db.session.execute(_vote_sql().follow, {"idea": idea.id, "voter": user.id, "level": level,
                                            "now": utcnow()})


def set_subscription(idea: Idea, user: User, level: SubscriptionLevel) -> Subscription:
    """The person's explicit choice for one idea, whatever it was before."""
    sub = subscribe(idea, user, level)
    sub.level = level
    db.session.flush()
    return sub


def subscription_level(idea: Idea, user: User | None) -> SubscriptionLevel | None:
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(
        select(Subscription.level).where(Subscription.idea_id == idea.id,
                                         Subscription.user_id == user.id)
    )


def _require_active(user: User) -> None:
    if user.is_banned:
        raise NotAllowed(_l("This account can no longer post or vote."))



def status_history(idea: Idea) -> list[StatusChange]:
    return list(db.session.scalars(
        select(StatusChange).where(StatusChange.idea_id == idea.id)
        .options(joinedload(StatusChange.from_status), joinedload(StatusChange.to_status),
                 joinedload(StatusChange.changed_by))
        .order_by(StatusChange.created_at, StatusChange.id)
    ))


# --- statuses ------------------------------------------------------------------------------

def status_label(status: Status) -> str:
    """The status name in the reader's language, lower-cased as it reads inside a sentence."""
    return gettext(status.name).lower()

def find_status(slug: str) -> Status:
    status = db.session.scalar(select(Status).where(Status.slug == slug))
    if status is None or status.retired:
        raise NotFound(_l("No status called “%(slug)s”.", slug=slug),
                       {"status": _l("Unknown status.")})
    return status


def change_status(idea: Idea, status: Status, by: User | None, *, note: str = "",
                  via: str = "web", release_notes: str = "") -> StatusChange:
    """Move the canonical idea to ``status`` by the workflow's rules; append to its history.

    Receivers of ``status_changed`` tell the followers and voters (and record how many in
    ``notified_count``) and publish ``release_notes`` as a changelog entry when shipping."""
    if by is not None and not by.is_staff:
        raise NotAllowed(_l("Only the team can change an idea’s status."))
    target = _lock(idea)
    note = clean_input(note or "")
    if status.retired:
        raise ValidationError(_l("This status is retired."),
                              {"status": _l("Choose another status.")})
    if status.id == target.status_id:
        raise Conflict(_l("The idea is already %(status)s.", status=status_label(status)))
    if not workflow.can_move(target.status.kind, status.kind):
        raise Conflict(_l("An idea that is %(current)s cannot move to %(target)s; reopen it first.",
                          current=status_label(target.status), target=status_label(status)))
    if workflow.note_required(status.kind) and not note:
        raise ValidationError(_l("Tell the voters why."),
                              {"note": _l("A public note is required for this status.")})
    change = StatusChange(idea_id=target.id, from_status=target.status, to_status=status,
                          note=note, changed_by=by, via=via)
    db.session.add(change)
    target.status = status
    now = utcnow()
    target.last_activity_at = now
    target.staff_acted_at = target.staff_acted_at or now
    db.session.flush()
    signals.status_changed.send(target, change=change, by=by,
                                release_notes=clean_input(release_notes or ""))
    return change
