"""Status pages: the public roadmap, the staff status-change screen, the admins' status list."""

from __future__ import annotations

from functools import wraps

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from forum import pagecache
from forum.errors import DomainError
from forum.extensions import db
from forum.ideas import queries, services, statuses, workflow
from forum.ideas.forms import EmptyForm
from forum.ideas.status_forms import NewStatusForm, StatusChangeForm, StatusForm
from forum.notifications import services as notifications
from forum.web import show_on_form

bp = Blueprint("statuses", __name__)
ROADMAP_COLUMN = 50


def staff_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/statuses.css")
def stylesheet():
    """Each status's colour, as a stylesheet: the CSP forbids inline styles."""
    rules = "".join(f'[data-status="{s.slug}"]{{--status-color:{s.color}}}'
                    for s in statuses.all_statuses() if statuses.COLOUR.match(s.color))
    response = make_response(rules)
    response.content_type = "text/css; charset=utf-8"
    response.cache_control.public = True
    response.cache_control.max_age = 60
    response.add_etag()
    return response.make_conditional(request)


@bp.route("/roadmap")
@pagecache.for_visitors  # its three columns took 70 ms a visit at 100,000 ideas
def roadmap():
    viewer = current_user if current_user.is_authenticated else None
    boards = services.visible_boards(viewer)
    columns = []
    for status in statuses.roadmap_statuses():
        query = queries.idea_list(boards, sort="top", status=status).limit(ROADMAP_COLUMN)
        columns.append((status, list(db.session.scalars(query).unique())))
    return render_template("ideas/roadmap.html", columns=columns)


@bp.route("/ideas/<int:idea_id>/status", methods=["GET", "POST"])
@staff_required
def change(idea_id: int):
    idea = services.canonical(services.get_visible_idea(idea_id, current_user))
    choices = [s for s in statuses.all_statuses(include_retired=False)
               if s.id != idea.status_id]
    allowed = {s.slug: workflow.can_move(idea.status.kind, s.kind) for s in choices}
    # The preview is a GET (choose a status, see who will be told); confirming is a POST.
    form = (StatusChangeForm() if request.method == "POST"
            else StatusChangeForm(request.args, meta={"csrf": False}))
    form.status.choices = [SelectChoice(s.slug, _(s.name) + ("" if allowed[s.slug] else " ✕"))
                           for s in choices]
    chosen = next((s for s in choices if s.slug == form.status.data), None)
    refused = 0
    if request.method == "POST" and form.validate() and chosen is not None:
        try:
            change = services.change_status(idea, chosen, current_user, note=form.note.data or "",
                                            release_notes=form.release_notes.data or "")
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
            refused = error.status_code
        else:
            db.session.commit()
            flash(ngettext_notified(change.notified_count, chosen), "success")
            return redirect(url_for("ideas.show", idea_id=idea.id))
    preview = None
    if chosen is not None:
        preview = notifications.preview_status_change(idea, chosen.kind, current_user)
    return render_template(
        "ideas/change_status.html", idea=idea, form=form, chosen=chosen, preview=preview,
        allowed=allowed, note_required=chosen is not None and workflow.note_required(chosen.kind),
        shipping=chosen is not None and chosen.kind.value == "complete",
    ), refused or (422 if form.errors else 200)


def ngettext_notified(count: int, status) -> str:
    from flask_babel import ngettext

    return ngettext("The idea is now %(status)s; %(num)d person will be told.",
                    "The idea is now %(status)s; %(num)d people will be told.",
                    count, status=_(status.name))


# --- administration -----------------------------------------------------------------------


@bp.route("/admin/statuses", methods=["GET", "POST"])
@admin_required
def admin():
    form = NewStatusForm()
    if form.validate_on_submit():
        try:
            statuses.add_status(current_user, name=form.name.data, kind=form.kind.data,
                                color=form.color.data, on_roadmap=form.on_roadmap.data)
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(_("Status “%(name)s” added.", name=form.name.data), "success")
            return redirect(url_for("statuses.admin"))
    return _admin_page(form, 422 if form.errors else 200)


def _admin_page(form, status_code: int = 200, errors: dict | None = None):
    return render_template("ideas/admin_statuses.html", form=form,
                           statuses=statuses.all_statuses(), counts=statuses.idea_counts(),
                           action=EmptyForm(), errors=errors or {}), status_code


@bp.post("/admin/statuses/<int:status_id>")
@admin_required
def edit(status_id: int):
    status = statuses.get_status(status_id)
    form = StatusForm()
    if not form.validate_on_submit():
        return _admin_page(NewStatusForm(formdata=None), 422, {status.id: form.errors})
    try:
        statuses.update_status(status, current_user, name=form.name.data, color=form.color.data,
                               on_roadmap=form.on_roadmap.data)
    except DomainError as error:
        db.session.rollback()
        return _admin_page(NewStatusForm(formdata=None), error.status_code,
                           {status_id: {k: [v] for k, v in error.fields.items()}})
    db.session.commit()
    flash(_("Status saved."), "success")
    return redirect(url_for("statuses.admin"))


@bp.post("/admin/statuses/<int:status_id>/move")
@admin_required
def move(status_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    statuses.move_status(statuses.get_status(status_id), current_user,
                         -1 if request.form.get("direction") == "up" else 1)
    db.session.commit()
    return redirect(url_for("statuses.admin"))


@bp.post("/admin/statuses/<int:status_id>/retire")
@admin_required
def retire(status_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    status = statuses.get_status(status_id)
    retired = request.form.get("retired") == "1"
    try:
        statuses.set_retired(status, current_user, retired)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("Status retired.") if retired else _("Status restored."), "success")
    return redirect(url_for("statuses.admin"))

