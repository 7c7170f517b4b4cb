"""Staff screens for duplicates: pick a target, compare side by side, merge, unmerge, and the
queue of likely duplicate pairs."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.errors import DomainError
from forum.extensions import db
from forum.ideas import merging, services
from forum.ideas.forms import EmptyForm
from forum.search import service as search

bp = Blueprint("merging", __name__)


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapper(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)
    return wrapper


@bp.get("/ideas/<int:idea_id>/merge")
@staff_required
def pick(idea_id: int):
    """Find the idea this one duplicates, with the search backend."""
    idea = services.get_visible_idea(idea_id, current_user)
    if idea.merged_into_id is not None:
        flash(_("This idea is already merged; unmerge it first."), "error")
        return redirect(url_for("ideas.show", idea_id=idea.id))
    query = request.args.get("q", "").strip()[:200]
    if query:
        group = set(services.group_ids(idea))
        page = search.search_ideas(query, current_user, per_page=current_app.config[
            "IDEAS_PER_PAGE"])
        candidates = [r.idea for r in page.items if r.idea.id not in group]
    else:
        candidates = search.related_ideas(idea, current_user, limit=10)
    return render_template("search/merge_pick.html", idea=idea, query=query,
                           candidates=candidates)


@bp.get("/ideas/<int:idea_id>/merge/<int:into_id>")
@staff_required
def compare(idea_id: int, into_id: int):
    """Side by side, before merging (also the duplicates queue's "compare")."""
    idea = services.get_visible_idea(idea_id, current_user)
    into = services.get_visible_idea(into_id, current_user)
    return render_template("search/compare.html", idea=idea, into=services.canonical(into),
                           form=EmptyForm(), from_queue=request.args.get("from") == "queue")


@bp.post("/ideas/<int:idea_id>/merge/<int:into_id>")
@staff_required
def merge(idea_id: int, into_id: int):
    idea = services.get_visible_idea(idea_id, current_user)
    into = services.get_visible_idea(into_id, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        target = merging.merge_ideas(idea, into, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("merging.compare", idea_id=idea_id, into_id=into_id))
    db.session.commit()
    flash(_("Merged. Its votes now count here."), "success")
    if request.form.get("from") == "queue":
        return redirect(url_for("merging.queue"))
    return redirect(url_for("ideas.show", idea_id=target.id))


@bp.post("/ideas/<int:idea_id>/unmerge")
@staff_required
def unmerge(idea_id: int):
    idea = services.get_visible_idea(idea_id, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        merging.unmerge_idea(idea, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Unmerged. Both ideas count their own votes again."), "success")
    return redirect(url_for("ideas.show", idea_id=idea.id))


@bp.get("/duplicates")
@staff_required
def queue():
    return render_template("search/duplicates.html", pairs=search.duplicate_queue(current_user),
                           form=EmptyForm())


@bp.post("/duplicates/dismiss")
@staff_required
def dismiss():
    form = EmptyForm()
    first, second = request.form.get("first", ""), request.form.get("second", "")
    if not form.validate_on_submit() or not first.isdigit() or not second.isdigit():
        abort(400)
    try:
        merging.dismiss_pair(services.get_visible_idea(int(first), current_user),
                             services.get_visible_idea(int(second), current_user), current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Noted: this pair will not be proposed again."), "success")
    return redirect(url_for("merging.queue"))
