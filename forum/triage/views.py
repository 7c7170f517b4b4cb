"""The team's screens: inbox and idea list, bulk actions, the staff panel of an idea, tags,
boards, saved views, CSV export and import. Thin: parse, call one service, commit once."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from forum.accounts.models import User
from forum.errors import DomainError
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Board, Comment, Idea, Status, Tag, VoteSource
from forum.search import service as search
from forum.security import body_limit
from forum.triage import csvio, filters, priority, services
from forum.triage.access import admin_required, staff_required
from forum.triage.models import SavedView
from forum.web import attempt, page_number, paginate, refusal, safe_next

bp = Blueprint("triage", __name__)


@bp.record_once
def _connect(_state) -> None:
    services.connect_signals()


@bp.app_context_processor
def _staff_panel():
    return {"staff_panel": staff_panel}


def staff_panel(idea: Idea) -> dict:
    """What the idea page shows the team (called from templates/ideas/show.html)."""
    target = ideas.canonical(idea)
    return {
        "idea": target,
        "statuses": db.session.scalars(select(Status).where(Status.retired.is_(False))
                                       .order_by(Status.position)).all(),
        "boards": services.all_boards(),
        "tags": services.all_tags(),
        "staff": services.staff_members(),
        "voters": services.voters(target),
        "audit": services.audit_trail(target),
        "score": services.priority_score(target),
        "scale": list(priority.SCALE),
        "sources": services.ON_BEHALF_SOURCES,
    }


def _done(message: str, default: str):
    db.session.commit()
    flash(message, "success")
    return redirect(safe_next(default))


def _refused(error: DomainError, default: str):
    db.session.rollback()
    flash(refusal(error), "error")
    return redirect(safe_next(default))


def _idea_page(idea: Idea) -> str:
    return url_for("ideas.show", idea_id=idea.id)


# --- inbox and idea list -------------------------------------------------------------------

@bp.route("/staff/inbox")
@staff_required
def inbox():
    args = request.args.copy()
    args.setdefault("inbox", "1")
    return _idea_list(filters.IdeaFilter.from_args(args))


@bp.route("/staff/ideas")
@staff_required
def idea_list():
    return _idea_list(filters.IdeaFilter.from_args(request.args))


def _idea_list(f: filters.IdeaFilter):
    page = paginate(filters.staff_query(f), page_number(), current_app.config["IDEAS_PER_PAGE"])
    return render_template(
        "triage/inbox.html", f=f, page=page, boards=services.all_boards(),
        statuses=db.session.scalars(select(Status).order_by(Status.position)).all(),
        tags=services.all_tags(), staff=services.staff_members(),
        views=services.saved_views(current_user), sorts=filters.SORT_NAMES,
        score=services.priority_score,
        notes=services.internal_notes([i.id for i in page.items]),
        endpoint=request.endpoint,
        args={k: v for k, v in request.args.items() if k != "page"},
    ), 422 if f.errors else 200


def _selected() -> list[int]:
    return [int(i) for i in request.form.getlist("ids") if i.isdigit()]


@bp.post("/staff/ideas/bulk")
@staff_required
def bulk():
    count = attempt(lambda: services.bulk_apply(
        _selected(), current_user, request.form.get("action", ""),
        value=request.form.get("value", ""), note=request.form.get("note", "")))
    if count is None:
        return redirect(safe_next(url_for("triage.inbox")))
    return _done(ngettext("%(num)d idea updated.", "%(num)d ideas updated.", count),
                 url_for("triage.inbox"))


@bp.post("/staff/ideas/bulk/merge")
@staff_required
def bulk_merge():
    """Merge the selected ideas into one named by its number, or else found by a search:
    several matches are offered to choose from, with the selection kept."""
    ids = _selected()
    reference = request.form.get("into", "").strip()[:200]
    into = services.find_idea(reference)
    if into is None:
        if not reference or reference.lstrip("#").isdigit():
            flash(_("Name the idea to merge into: its number, or words from its title."),
                  "error")
            return redirect(safe_next(url_for("triage.inbox")))
        found = search.search_ideas(reference, current_user, per_page=10)
        return render_template("triage/merge_pick.html", query=reference, ids=ids,
                               candidates=[r.idea for r in found.items if r.idea.id not in ids],
                               selected=db.session.scalars(
                                   select(Idea).where(Idea.id.in_(ids)).order_by(Idea.id)).all(),
                               next=safe_next(url_for("triage.inbox")))
    merged = attempt(lambda: services.bulk_merge(ids, current_user, into))
    if merged is None:
        return redirect(safe_next(url_for("triage.inbox")))
    target, count = merged
    return _done(ngettext("%(num)d idea merged into “%(title)s”.",
                          "%(num)d ideas merged into “%(title)s”.", count, title=target.title),
                 url_for("triage.inbox"))


@bp.post("/staff/views")
@staff_required
def save_view():
    query = filters.IdeaFilter.from_args(request.form).query_string()
    try:
        view = services.save_view(current_user, name=request.form.get("name", ""), query=query)
    except DomainError as error:
        return _refused(error, url_for("triage.idea_list") + "?" + query)
    return _done(_("View “%(name)s” saved.", name=view.name),
                 url_for("triage.idea_list") + "?" + query)


@bp.post("/staff/views/<int:view_id>/delete")
@staff_required
def delete_view(view_id: int):
    view = db.session.get(SavedView, view_id)
    if view is None or view.user_id != current_user.id:
        abort(404)
    services.delete_view(view, current_user)
    return _done(_("View deleted."), url_for("triage.idea_list"))


# --- one idea ------------------------------------------------------------------------------

@bp.post("/staff/ideas/<int:idea_id>/reviewed")
@staff_required
def reviewed(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    services.mark_reviewed(idea, current_user)
    return _done(_("Marked as reviewed."), _idea_page(idea))


@bp.post("/staff/ideas/<int:idea_id>/status")
@staff_required
def change_status(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    try:
        ideas.change_status(idea, ideas.find_status(request.form.get("status", "")),
                            current_user, note=request.form.get("note", ""))
    except DomainError as error:
        return _refused(error, _idea_page(idea))
    return _done(_("Status changed."), _idea_page(idea))


@bp.post("/staff/ideas/<int:idea_id>/owner")
@staff_required
def set_owner(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    value = request.form.get("owner", "")
    owner = db.session.get(User, int(value)) if value.isdigit() else None
    try:
        services.set_owner(idea, owner, current_user)
    except DomainError as error:
        return _refused(error, _idea_page(idea))
    return _done(_("Owner saved."), _idea_page(idea))


@bp.post("/staff/ideas/<int:idea_id>/tags")
@staff_required
def set_tags(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    chosen = [int(i) for i in request.form.getlist("tags") if i.isdigit()]
    tags = db.session.scalars(select(Tag).where(Tag.id.in_(chosen))).all()
    services.set_tags(idea, tags, current_user)
    return _done(_("Tags saved."), _idea_page(idea))


@bp.post("/staff/ideas/<int:idea_id>/board")
@staff_required
def move_board(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    board = db.session.get(Board, request.form.get("board", type=int) or 0)
    if board is None:
        abort(400)
    services.move_to_board(idea, board, current_user)
    return _done(_("Moved to %(board)s.", board=board.name), _idea_page(idea))


def _rating(name: str) -> int | None:
    value = request.form.get(name, "")
    return int(value) if value.isdigit() else None


@bp.post("/staff/ideas/<int:idea_id>/priority")
@staff_required
def set_priority(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    try:
        services.set_priority(idea, current_user, impact=_rating("impact"),
                              effort=_rating("effort"))
    except DomainError as error:
        return _refused(error, _idea_page(idea))
    return _done(_("Priority saved."), _idea_page(idea))


@bp.post("/staff/ideas/<int:idea_id>/hide")
@staff_required
def hide_idea(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    services.set_idea_hidden(idea, current_user, hidden=True,
                             reason=request.form.get("reason", ""))
    return _done(_("The idea is hidden from customers. Nothing was deleted."), _idea_page(idea))


@bp.post("/staff/ideas/<int:idea_id>/unhide")
@staff_required
def unhide_idea(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    services.set_idea_hidden(idea, current_user, hidden=False)
    return _done(_("The idea is visible again."), _idea_page(idea))


@bp.post("/staff/ideas/<int:idea_id>/votes")
@staff_required
def vote_on_behalf(idea_id: int):
    idea = db.get_or_404(Idea, idea_id)
    source = request.form.get("source", "support")
    try:
        target, voter, added = services.vote_on_behalf(
            idea, current_user, email=request.form.get("email", ""),
            name=request.form.get("name", ""),
            source=VoteSource(source) if source in {s.value for s in VoteSource}
            else VoteSource.WEB, tell=request.form.get("tell") == "1")
    except DomainError as error:
        return _refused(error, _idea_page(idea))
    message = _("%(email)s's vote is counted.", email=voter.email) if added else \
        _("%(email)s had already voted for this idea.", email=voter.email)
    if added and request.form.get("tell") == "1":
        message += " " + _("We will email them.")
    return _done(message, _idea_page(target))


@bp.post("/staff/comments/<int:comment_id>/hide")
@staff_required
def hide_comment(comment_id: int):
    comment = db.get_or_404(Comment, comment_id)
    services.set_comment_hidden(comment, current_user, hidden=True,
                                reason=request.form.get("reason", ""))
    return _done(_("The comment is hidden from customers. Nothing was deleted."),
                 _idea_page(comment.idea) + f"#comment-{comment.id}")


@bp.post("/staff/comments/<int:comment_id>/unhide")
@staff_required
def unhide_comment(comment_id: int):
    comment = db.get_or_404(Comment, comment_id)
    services.set_comment_hidden(comment, current_user, hidden=False)
    return _done(_("The comment is visible again."),
                 _idea_page(comment.idea) + f"#comment-{comment.id}")


@bp.route("/staff/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_comment(comment_id: int):
    comment = db.get_or_404(Comment, comment_id)
    error = None
    if request.method == "POST":
        try:
            services.edit_comment(comment, current_user, request.form.get("body", ""))
        except DomainError as refused:
            db.session.rollback()
            error = refused.message
        else:
            return _done(_("The comment is saved; the original is kept in the audit log."),
                         _idea_page(comment.idea) + f"#comment-{comment.id}")
    body = request.form.get("body", comment.body)
    return render_template("triage/edit_comment.html", comment=comment, body=body,
                           error=error), 422 if error else 200


# --- tags ----------------------------------------------------------------------------------

@bp.route("/staff/tags", methods=["GET", "POST"])
@staff_required
def tags():
    if request.method == "POST":
        try:
            tag = services.create_tag(current_user, name=request.form.get("name", ""),
                                      color=request.form.get("color", "#64748b"))
        except DomainError as error:
            return _refused(error, url_for("triage.tags"))
        return _done(_("Tag “%(name)s” created.", name=tag.name), url_for("triage.tags"))
    return render_template("triage/tags.html", tags=services.all_tags(),
                           usage=services.tag_usage())


@bp.post("/staff/tags/<int:tag_id>")
@staff_required
def update_tag(tag_id: int):
    tag = db.get_or_404(Tag, tag_id)
    try:
        services.update_tag(tag, current_user, name=request.form.get("name", ""),
                            color=request.form.get("color", ""))
    except DomainError as error:
        return _refused(error, url_for("triage.tags"))
    return _done(_("Tag saved."), url_for("triage.tags"))


@bp.post("/staff/tags/<int:tag_id>/delete")
@staff_required
def delete_tag(tag_id: int):
    services.delete_tag(db.get_or_404(Tag, tag_id), current_user)
    return _done(_("Tag deleted; the ideas that had it are unchanged."), url_for("triage.tags"))


# --- boards (admins) -----------------------------------------------------------------------

@bp.route("/admin/boards", methods=["GET", "POST"])
@admin_required
def boards():
    if request.method == "POST":
        try:
            board = services.create_board(current_user, name=request.form.get("name", ""),
                                          description=request.form.get("description", ""),
                                          visibility=request.form.get("visibility", "public"))
        except DomainError as error:
            return _refused(error, url_for("triage.boards"))
        return _done(_("Board “%(name)s” created.", name=board.name), url_for("triage.boards"))
    return render_template("triage/boards.html", boards=services.all_boards())


@bp.post("/admin/boards/<int:board_id>")
@admin_required
def update_board(board_id: int):
    board = db.get_or_404(Board, board_id)
    try:
        services.update_board(board, current_user, name=request.form.get("name", ""),
                              description=request.form.get("description", ""),
                              visibility=request.form.get("visibility", ""))
    except DomainError as error:
        return _refused(error, url_for("triage.boards"))
    return _done(_("Board saved."), url_for("triage.boards"))


@bp.post("/admin/boards/<int:board_id>/move")
@admin_required
def move_board_position(board_id: int):
    services.move_board(db.get_or_404(Board, board_id), current_user,
                        request.form.get("direction", "down"))
    return _done(_("Boards reordered."), url_for("triage.boards"))


# --- export and import ---------------------------------------------------------------------

EXPORTS = {"ideas": csvio.export_ideas, "votes": csvio.export_votes,
           "comments": csvio.export_comments}


@bp.route("/staff/export")
@staff_required
def export():
    return render_template("triage/export.html", kinds=list(EXPORTS))


@bp.route("/staff/export/<kind>.csv")
@staff_required
def export_csv(kind: str):
    if kind not in EXPORTS:
        abort(404)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    return Response(stream_with_context(EXPORTS[kind]()), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="{kind}-{stamp}.csv"'})


IMPORT_MAX_BYTES = 20 * 1024 * 1024


@bp.route("/admin/import", methods=["GET", "POST"])
@admin_required
@body_limit(IMPORT_MAX_BYTES)  # a site's whole history is bigger than any form
def import_csv():
    report, error = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        fmt = request.form.get("format", "")
        dry_run = request.form.get("dry_run") == "1"
        if upload is None or not upload.filename:
            error = _("Choose a CSV file.")
        else:
            try:
                with upload.stream:  # big uploads spool to a temporary file: close it
                    text = upload.read().decode("utf-8-sig")
                report = csvio.run_import(text, fmt, current_user, dry_run=dry_run)
            except UnicodeDecodeError:
                error = _("The file is not UTF-8 text.")
            except DomainError as refused:
                error = refused.message
            if report is not None and not dry_run:
                db.session.commit()
            else:
                db.session.rollback()
    return render_template("triage/import.html", report=report, error=error,
                           formats=csvio.FORMATS, generic=csvio.GENERIC_COLUMNS,
                           optional=csvio.GENERIC_OPTIONAL,
                           fider=csvio.FIDER_COLUMNS), 422 if error else 200
