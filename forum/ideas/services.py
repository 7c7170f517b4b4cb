"""Operations on ideas, votes and comments.

Every function changes models, flushes, sends its signal and returns; none commits. The caller
(a view, an API handler, a CLI command) owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum import signals
from forum.accounts.models import User
from forum.db import utcnow
from forum.errors import Conflict, NotAllowed, NotFound, ValidationError
from forum.extensions import db
from forum.ideas import ranking, workflow
from forum.ideas.models import (
    Board,
    Comment,
    Idea,
    Status,
    StatusChange,
    Subscription,
    SubscriptionLevel,
    Vote,
    VoteSource,
)
from forum.text import clean_input

TITLE_MIN, TITLE_MAX = 3, 120
BODY_MAX = 20_000
COMMENT_MAX = 10_000


# --- reading -------------------------------------------------------------------------------

def visible_boards(viewer: User | None) -> list[Board]:
    boards = db.session.scalars(select(Board).order_by(Board.position, Board.name)).all()
    signed_in = viewer is not None and viewer.is_authenticated
    staff = signed_in and viewer.is_staff
    return [b for b in boards if workflow.can_see_board(b.visibility, signed_in=signed_in,
                                                        is_staff=staff)]


def get_visible_idea(idea_id: int, viewer: User | None) -> Idea:
    """The idea if this person may see it; hidden boards and hidden ideas answer 'not found'."""
    idea = db.session.get(Idea, idea_id)
    if idea is None or not _can_see(idea, viewer):
        raise NotFound("No idea with that number.")
    return idea


def _can_see(idea: Idea, viewer: User | None) -> bool:
    signed_in = viewer is not None and viewer.is_authenticated
    staff = signed_in and viewer.is_staff
    if idea.hidden_at is not None and not staff:
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
    ids = [i.id for i in ideas]
    if not ids or viewer is None or not viewer.is_authenticated:
        return set()
    canonical_id = func.coalesce(Idea.merged_into_id, Idea.id)
    rows = db.session.scalars(
        select(canonical_id)
        .join(Vote, Vote.idea_id == Idea.id)
        .where(Vote.user_id == viewer.id, canonical_id.in_(ids))
    )
    return set(rows)


def has_voted(viewer: User | None, idea: Idea) -> bool:
    return canonical(idea).id in voted_idea_ids(viewer, [canonical(idea)])


# --- ideas ---------------------------------------------------------------------------------

def _validated_title(title: str) -> str:
    title = " ".join(clean_input(title).split())
    if len(title) < TITLE_MIN:
        raise ValidationError("The title is too short.",
                              {"title": f"Use at least {TITLE_MIN} characters."})
    if len(title) > TITLE_MAX:
        raise ValidationError("The title is too long.",
                              {"title": f"Use at most {TITLE_MAX} characters."})
    return title


def _validated_body(body: str) -> str:
    body = clean_input(body or "")
    if len(body) > BODY_MAX:
        raise ValidationError("The description is too long.",
                              {"body": f"Use at most {BODY_MAX} characters."})
    return body


def default_status() -> Status:
    status = db.session.scalar(select(Status).where(Status.is_default.is_(True)))
    if status is None:  # a site whose admin removed the flag still accepts ideas
        status = db.session.scalar(select(Status).order_by(Status.position))
    if status is None:
        raise Conflict("No status is defined; run `flask db upgrade`.")
    return status


def submit_idea(author: User, *, title: str, body: str, board: Board) -> Idea:
    """Post an idea; its author votes for it and follows it."""
    _require_active(author)
    now = utcnow()
    idea = Idea(
        title=_validated_title(title),
        body=_validated_body(body),
        board=board,
        author=author,
        status=default_status(),
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


def edit_idea(idea: Idea, editor: User, *, title: str, body: str, board: Board | None = None
              ) -> Idea:
    if not workflow.can_edit_idea(is_staff=editor.is_staff, is_author=idea.author_id == editor.id,
                                  staff_has_acted=idea.staff_acted_at is not None):
        raise NotAllowed("You can no longer edit this idea: the team has already acted on it.")
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
    """
    _require_active(voter)
    target = _lock(canonical(idea))
    if not workflow.voting_open(target.status.kind):
        raise Conflict(f"Voting is closed: this idea is {target.status.name.lower()}.")
    ids = group_ids(target)
    already = db.session.scalar(
        select(Vote.id).where(Vote.user_id == voter.id, Vote.idea_id.in_(ids)).limit(1)
    )
    if already is not None:
        return target, False
    vote = Vote(idea_id=target.id, user_id=voter.id, source=source,
                added_by_id=added_by.id if added_by else None)
    try:
        with db.session.begin_nested():
            db.session.add(vote)
    except IntegrityError:
        # A concurrent request by the same person won the race: the vote exists, which is
        # exactly what was asked for.
        return target, False
    target.vote_count += 1
    target.trending_score = ranking.add_vote(target.trending_score, vote.created_at)
    target.last_activity_at = vote.created_at
    subscribe(target, voter, SubscriptionLevel.STATUS)
    db.session.flush()
    signals.vote_cast.send(target, voter=voter, vote=vote, source=source)
    return target, True


def withdraw_vote(idea: Idea, voter: User) -> tuple[Idea, bool]:
    """Remove this person's vote from the idea's group. Idempotent."""
    target = _lock(canonical(idea))
    ids = group_ids(target)
    votes = db.session.scalars(
        select(Vote).where(Vote.user_id == voter.id, Vote.idea_id.in_(ids))
    ).all()
    if not votes:
        return target, False
    if not workflow.voting_open(target.status.kind):
        raise Conflict(f"Voting is closed: this idea is {target.status.name.lower()}.")
    recompute = False
    for vote in votes:
        if ranking.removal_is_exact(target.trending_score, vote.created_at):
            target.trending_score = ranking.remove_vote(target.trending_score, vote.created_at)
        else:
            recompute = True
        db.session.delete(vote)
    target.vote_count = max(0, target.vote_count - 1)
    db.session.flush()
    if recompute:
        # The withdrawn vote outweighed the rest beyond float precision: start again from the
        # votes that remain (rare: a fresh vote withdrawn from an idea whose votes are old).
        target.trending_score = ranking.trending_score(sorted(db.session.scalars(
            select(Vote.created_at).where(Vote.idea_id.in_(ids)))))
        db.session.flush()
    signals.vote_withdrawn.send(target, voter=voter)
    return target, True


def _lock(idea: Idea) -> Idea:
    """Serialise changes to one idea's counters (row lock on PostgreSQL; SQLite write
    transactions are already serialised by BEGIN IMMEDIATE, and what they read is current,
    so reading the row again there would only cost a query)."""
    if db.session.get_bind().dialect.name != "sqlite":
        db.session.refresh(idea, with_for_update=True)
    return idea


def count_votes(idea: Idea) -> int:
    """The truth the stored vote_count must equal: distinct voters of the group."""
    return db.session.scalar(
        select(func.count(func.distinct(Vote.user_id))).where(Vote.idea_id.in_(group_ids(idea)))
    ) or 0


# --- comments and subscriptions ------------------------------------------------------------

def post_comment(idea: Idea, author: User, body: str, *, internal: bool = False) -> Comment:
    _require_active(author)
    if internal and not author.is_staff:
        raise NotAllowed("Only the team can write internal notes.")
    text = clean_input(body or "")
    if not text:
        raise ValidationError("The comment is empty.", {"body": "Write something first."})
    if len(text) > COMMENT_MAX:
        raise ValidationError("The comment is too long.",
                              {"body": f"Use at most {COMMENT_MAX} characters."})
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


def visible_comments(idea: Idea, viewer: User | None) -> list[Comment]:
    staff = viewer is not None and viewer.is_authenticated and viewer.is_staff
    query = select(Comment).where(Comment.idea_id == idea.id).order_by(Comment.created_at,
                                                                       Comment.id)
    if not staff:
        query = query.where(Comment.is_internal.is_(False), Comment.hidden_at.is_(None))
    return list(db.session.scalars(query))


def subscribe(idea: Idea, user: User, level: SubscriptionLevel) -> Subscription:
    """Raise a subscription to ``level``; never lowers one, never overrides a chosen 'none'."""
    sub = db.session.scalar(
        select(Subscription).where(Subscription.idea_id == idea.id,
                                   Subscription.user_id == user.id)
    )
    if sub is None:
        sub = Subscription(idea_id=idea.id, user_id=user.id, level=level)
        db.session.add(sub)
    elif sub.level == SubscriptionLevel.STATUS and level == SubscriptionLevel.ALL:
        sub.level = level
    return sub


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
        raise NotAllowed("This account can no longer post or vote.")



def status_history(idea: Idea) -> list[StatusChange]:
    return list(db.session.scalars(
        select(StatusChange).where(StatusChange.idea_id == idea.id)
        .options(joinedload(StatusChange.to_status), joinedload(StatusChange.changed_by))
        .order_by(StatusChange.created_at, StatusChange.id)
    ))


# --- statuses ------------------------------------------------------------------------------

def find_status(slug: str) -> Status:
    status = db.session.scalar(select(Status).where(Status.slug == slug))
    if status is None or status.retired:
        raise NotFound(f"No status called {slug!r}.", {"status": "Unknown status."})
    return status


def change_status(idea: Idea, status: Status, by: User | None, *, note: str = "",
                  via: str = "web") -> StatusChange:
    """Move the canonical idea to ``status`` by the workflow's rules; append to its history."""
    if by is not None and not by.is_staff:
        raise NotAllowed("Only the team can change an idea's status.")
    target = _lock(canonical(idea))
    note = clean_input(note or "")
    if status.id == target.status_id:
        raise Conflict(f"The idea is already {status.name.lower()}.")
    if not workflow.can_move(target.status.kind, status.kind):
        raise Conflict(f"An idea that is {target.status.name.lower()} cannot move to "
                       f"{status.name.lower()}; reopen it first.")
    if workflow.note_required(status.kind) and not note:
        raise ValidationError("Tell the voters why.",
                              {"note": "A public note is required for this status."})
    change = StatusChange(idea_id=target.id, from_status=target.status, to_status=status,
                          note=note, changed_by=by, via=via)
    db.session.add(change)
    target.status = status
    now = utcnow()
    target.last_activity_at = now
    target.staff_acted_at = target.staff_acted_at or now
    db.session.flush()
    signals.status_changed.send(target, change=change, by=by)
    return change
