"""Reporting content (signed-in people), the moderation queue and bans (the team)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.accounts.models import User
from forum.errors import DomainError
from forum.extensions import db, limiter
from forum.ideas import services as ideas
from forum.ideas.models import Comment
from forum.moderation import services
from forum.moderation.limits import post_limit
from forum.moderation.models import Report, ReportReason
from forum.triage.access import staff_required
from forum.web import safe_next

bp = Blueprint("moderation", __name__)


@bp.app_context_processor
def _reasons():
    return {"report_reasons": list(ReportReason)}


def _after(message: str, category: str, default: str):
    flash(message, category)
    return redirect(safe_next(default))


@bp.post("/ideas/<int:idea_id>/report")
@login_required
@limiter.limit(post_limit, methods=["POST"])
def report_idea(idea_id: int):
    idea = ideas.get_visible_idea(idea_id, current_user)
    return _report(idea, None)


@bp.post("/comments/<int:comment_id>/report")
@login_required
@limiter.limit(post_limit, methods=["POST"])
def report_comment(comment_id: int):
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment not in ideas.visible_comments(comment.idea, current_user):
        abort(404)
    idea = ideas.get_visible_idea(comment.idea_id, current_user)
    return _report(idea, comment)


def _report(idea, comment):
    page = url_for("ideas.show", idea_id=idea.id)
    try:
        services.report(current_user, idea, comment=comment,
                        reason=request.form.get("reason", ""),
                        details=request.form.get("details", ""))
    except DomainError as error:
        db.session.rollback()
        return _after(error.message, "error", page)
    db.session.commit()
    return _after(_("Thank you: the team will look at it."), "success", page)


@bp.route("/staff/moderation")
@staff_required
def queue():
    return render_template("moderation/queue.html", reports=services.open_reports())


@bp.post("/staff/reports/<int:report_id>/resolve")
@staff_required
def resolve(report_id: int):
    item = db.get_or_404(Report, report_id)
    try:
        services.resolve(item, current_user, request.form.get("action", ""))
    except DomainError as error:
        db.session.rollback()
        return _after(error.message, "error", url_for("moderation.queue"))
    db.session.commit()
    return _after(_("Report handled."), "success", url_for("moderation.queue"))


@bp.post("/staff/people/<int:user_id>/<any(ban, unban):action>")
@staff_required
def ban(user_id: int, action: str):
    person = db.get_or_404(User, user_id)
    default = url_for("accounts.profile", user_id=person.id)
    try:
        services.set_banned(person, current_user, banned=action == "ban")
    except DomainError as error:
        db.session.rollback()
        return _after(error.message, "error", default)
    db.session.commit()
    message = _("%(name)s is banned: their ideas and comments are hidden, nothing is deleted.",
                name=person.name) if action == "ban" else \
        _("%(name)s may take part again.", name=person.name)
    return _after(message, "success", default)
