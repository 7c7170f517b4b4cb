"""Reports, their resolution, and bans. Services: flush, never commit.

A ban hides a person's ideas and comments from everyone but the team (the reading queries
leave out banned authors), stops them posting and voting, and stops them signing in. Nothing
is deleted, so lifting the ban brings everything back exactly as it was.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from forum.accounts.models import User
from forum.db import utcnow
from forum.errors import Conflict, NotAllowed, ValidationError
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Comment, Idea
from forum.moderation.models import Report, ReportReason, ReportState
from forum.text import clean_input
from forum.triage.services import audit, require_staff, set_comment_hidden, set_idea_hidden

DETAILS_MAX = 1000
RESOLUTIONS = ("dismiss", "hide", "ban")


def report(reporter: User, idea: Idea, *, reason: str, details: str = "",
           comment: Comment | None = None) -> Report:
    """Flag an idea or one of its comments for the team. One open report per person and item."""
    if reporter.is_banned:
        raise NotAllowed(_l("This account can no longer report content."))
    if reason not in {r.value for r in ReportReason}:
        raise ValidationError(_l("Choose a reason."), {"reason": _l("Choose a reason.")})
    text = clean_input(details or "")
    if len(text) > DETAILS_MAX:
        raise ValidationError(_l("Too long."),
                              {"details": _l("Use at most %(max)d characters.", max=DETAILS_MAX)})
    same_item = (Report.comment_id == comment.id) if comment else Report.comment_id.is_(None)
    existing = db.session.scalar(select(Report).where(
        Report.reporter_id == reporter.id, Report.idea_id == idea.id, same_item,
        Report.state == ReportState.OPEN))
    if existing is not None:
        return existing
    item = Report(reporter=reporter, idea=idea, comment=comment, reason=ReportReason(reason),
                  details=text)
    db.session.add(item)
    db.session.flush()
    return item


def open_reports() -> list[Report]:
    return list(db.session.scalars(
        select(Report).where(Report.state == ReportState.OPEN)
        .order_by(Report.created_at, Report.id)))


def resolve(item: Report, by: User, action: str) -> Report:
    """Dismiss the report, hide what was reported, or ban its author. Every other open report
    on the same content is resolved with it, so the queue does not ask twice."""
    require_staff(by)
    if action not in RESOLUTIONS:
        raise ValidationError(_l("Choose what to do."), {"action": _l("Unknown action.")})
    if item.state != ReportState.OPEN:
        raise Conflict(_l("This report was already handled."))
    state = ReportState.DISMISSED
    if action == "hide":
        if item.comment is not None:
            set_comment_hidden(item.comment, by, hidden=True, reason=f"report {item.id}")
        else:
            set_idea_hidden(item.idea, by, hidden=True, reason=f"report {item.id}")
        state = ReportState.HIDDEN
    elif action == "ban":
        author = item.comment.author if item.comment is not None else item.idea.author
        set_banned(author, by, banned=True)
        state = ReportState.BANNED
    same = select(Report).where(Report.idea_id == item.idea_id,
                                Report.state == ReportState.OPEN)
    same = same.where(Report.comment_id == item.comment_id) if item.comment_id else \
        same.where(Report.comment_id.is_(None))
    now = utcnow()
    for other in db.session.scalars(same):
        other.state, other.resolved_by, other.resolved_at = state, by, now
    db.session.flush()
    return item


def set_banned(person: User, by: User, *, banned: bool) -> User:
    require_staff(by)
    if person.is_staff:
        raise NotAllowed(_l("Team accounts cannot be banned; change their role first."))
    if person.is_banned != banned:
        audit(by, "user.ban" if banned else "user.unban", person,
              before={"banned": person.is_banned}, after={"banned": banned})
        person.is_banned = banned
        db.session.flush()
        ideas.recount_comments(db.session.scalars(
            select(Comment.idea_id).where(Comment.author_id == person.id).distinct()).all())
    return person
