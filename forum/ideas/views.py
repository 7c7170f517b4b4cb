from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import lazyload, raiseload

from forum import dbtuning, pagecache
from forum.errors import DomainError, wants_json
from forum.extensions import db, limiter
from forum.ideas import queries, services, workflow
from forum.ideas.forms import CommentForm, EmptyForm, IdeaForm
from forum.ideas.models import Board, Idea, SubscriptionLevel, Tag, VoteSource
from forum.moderation.limits import post_limit
from forum.search import service as search
from forum.web import page_number, paginate, safe_next, show_on_form

bp = Blueprint("ideas", __name__)
# A list counts its ideas only this many pages past the one shown (see forum.web.paginate).
LIST_PAGES_AHEAD = 10


def _viewer():
    return current_user if current_user.is_authenticated else None


@bp.route("/")
@pagecache.for_visitors(members=True)
def index():
    return _idea_list(None, services.visible_boards(_viewer()))


@bp.route("/boards/<slug>")
@pagecache.for_visitors(members=True)
def board(slug: str):
    boards = services.visible_boards(_viewer())
    chosen = next((b for b in boards if b.slug == slug), None)
    if chosen is None:
        abort(404)
    return _idea_list(chosen, boards)


def _idea_list(board: Board | None, boards: list[Board]):
    viewer = _viewer()
    sort = request.args.get("sort", "top")
    if sort not in queries.SORTS:
        sort = "top"
    tags = db.session.scalars(db.select(Tag).order_by(Tag.name)).all()
    tag = next((t for t in tags if t.slug == request.args.get("tag")), None)
    # A list row does not show the author: loading 20 people per page is a third of the ORM's
    # work there, and raiseload makes a template that starts showing them fail loudly (N+1).
    # The boards are already in the session (just loaded above), so each row finds its board
    # there instead of joining and building it again.
    query = queries.idea_list([board] if board else boards, sort=sort, tag=tag).options(
        raiseload(Idea.author), lazyload(Idea.board))
    number, per_page = page_number(), current_app.config["IDEAS_PER_PAGE"]
    page = paginate(query, number, per_page, count_up_to=(number + LIST_PAGES_AHEAD) * per_page)
    # A page stored for every member marks the vote buttons instead; each member's own votes
    # are read when it is served (forum.pagecache).
    voted = set() if pagecache.marking() else services.voted_idea_ids(viewer, page.items)
    return render_template(
        "ideas/list.html", page=page, sort=sort, board=board, boards=boards, tags=tags, tag=tag,
        voted=voted, form=EmptyForm(),
    )


@bp.route("/ideas/new", methods=["GET", "POST"])
@login_required
@limiter.limit(post_limit, methods=["POST"])
def new_idea():
    boards = services.visible_boards(current_user)
    form = IdeaForm()
    form.board.choices = [(b.id, b.name) for b in boards]
    if request.method == "GET" and request.args.get("board"):
        chosen = next((b for b in boards if b.slug == request.args["board"]), None)
        if chosen:
            form.board.data = chosen.id
    similar = None
    if request.method == "POST" and request.form.get("check"):
        # Without JavaScript, "Check for similar ideas" posts the form: show, save nothing.
        similar = search.similar_ideas_for_form(form.title.data or "", form.body.data or "",
                                                current_user)
    elif form.validate_on_submit():
        if form.website.data:
            # A bot filled the honeypot: pretend success, store nothing.
            return redirect(url_for("ideas.index"))
        board = next(b for b in boards if b.id == form.board.data)
        try:
            idea = services.submit_idea(current_user, title=form.title.data,
                                        body=form.body.data or "", board=board)
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(_("Your idea is posted, and your vote is counted."), "success")
            return redirect(url_for("ideas.show", idea_id=idea.id))
    return render_template("ideas/form.html", form=form, idea=None, similar=similar), \
        422 if form.errors else 200


@bp.route("/ideas/<int:idea_id>")
@bp.route("/ideas/<int:idea_id>/<slug>")
@pagecache.for_visitors
def show(idea_id: int, slug: str | None = None):
    idea = services.get_visible_idea(idea_id, _viewer())
    return _render_idea(idea, CommentForm())


def satisfaction_summary(idea) -> dict | None:
    from forum.changelog.services import summaries

    return summaries([idea.id]).get(idea.id)


def _render_idea(idea, comment_form: CommentForm, status: int = 200):
    viewer = _viewer()
    target = services.canonical(idea)
    return render_template(
        "ideas/show.html",
        idea=idea,
        canonical=target,
        voted=services.has_voted(viewer, target),
        voting_open=workflow.voting_open(target.status.kind),
        comments=services.visible_comments(target, viewer),
        history=services.status_history(target),
        satisfaction_summary=satisfaction_summary(target),
        related=search.related_ideas(target, viewer) if not idea.is_merged else [],
        subscription=services.subscription_level(target, viewer),
        can_edit=viewer is not None and workflow.can_edit_idea(
            is_staff=viewer.is_staff, is_author=idea.author_id == viewer.id,
            staff_has_acted=idea.staff_acted_at is not None),
        comment_form=comment_form,
        form=EmptyForm(),
        levels=SubscriptionLevel,
    ), status


@bp.route("/ideas/<int:idea_id>/edit", methods=["GET", "POST"])
@login_required
def edit(idea_id: int):
    idea = services.get_visible_idea(idea_id, current_user)
    if not workflow.can_edit_idea(is_staff=current_user.is_staff,
                                  is_author=idea.author_id == current_user.id,
                                  staff_has_acted=idea.staff_acted_at is not None):
        abort(403)
    boards = services.visible_boards(current_user)
    form = IdeaForm(obj=idea if request.method == "GET" else None)
    form.board.choices = [(b.id, b.name) for b in boards]
    if request.method == "GET":
        form.board.data = idea.board_id
    if form.validate_on_submit():
        board = next(b for b in boards if b.id == form.board.data)
        try:
            services.edit_idea(idea, current_user, title=form.title.data,
                               body=form.body.data or "", board=board)
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("ideas.show", idea_id=idea.id))
    return render_template("ideas/form.html", form=form, idea=idea), 422 if form.errors else 200


@bp.post("/ideas/<int:idea_id>/vote")
@dbtuning.reads_first
@login_required
def vote(idea_id: int):
    # "Vote for this instead" on the new-idea form says where it came from (?from=similar).
    source = VoteSource.SUGGESTED if request.args.get("from") == "similar" else VoteSource.WEB
    return _change_vote(idea_id, lambda idea, user: services.cast_vote(idea, user, source=source),
                        _("Your vote is counted."), voted=True)


@bp.post("/ideas/<int:idea_id>/unvote")
@dbtuning.reads_first
@login_required
def unvote(idea_id: int):
    return _change_vote(idea_id, services.withdraw_vote, _("Your vote is withdrawn."),
                        voted=False)


def _change_vote(idea_id: int, operation, message: str, *, voted: bool):
    idea = services.get_visible_idea(idea_id, current_user)
    dbtuning.begin_writing()
    try:
        target, _changed = operation(idea, current_user)
        services.require_visible(target, current_user)  # as read again under the lock
    except DomainError as error:
        db.session.rollback()
        if wants_json():
            raise
        flash(str(error), "error")
        return redirect(safe_next(url_for("ideas.show", idea_id=idea.id)))
    # Known before the commit expires them: after a vote the person counts on the idea, after
    # a withdrawal not (both operations are idempotent); reading them back costs four queries.
    votes, target_id = target.vote_count, target.id
    db.session.commit()
    if wants_json():
        return jsonify({"voted": voted, "votes": votes, "id": target_id})
    flash(message, "success")
    return redirect(safe_next(url_for("ideas.show", idea_id=target_id)))


@bp.post("/ideas/<int:idea_id>/comments")
@login_required
@limiter.limit(post_limit, methods=["POST"])
def comment(idea_id: int):
    idea = services.get_visible_idea(idea_id, current_user)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            services.post_comment(idea, current_user, form.body.data,
                                  internal=current_user.is_staff and
                                  request.form.get("internal") == "1")
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Your comment is posted."), "success")
            return redirect(url_for("ideas.show", idea_id=idea.id) + "#comments")
    else:
        # Keep what they wrote: the page comes back with the text and the error beside it.
        return _render_idea(idea, form, 422)
    return redirect(url_for("ideas.show", idea_id=idea.id) + "#comments")


@bp.post("/ideas/<int:idea_id>/follow")
@login_required
def follow(idea_id: int):
    idea = services.canonical(services.get_visible_idea(idea_id, current_user))
    form = EmptyForm()
    level = request.form.get("level", "all")
    if not form.validate_on_submit() or level not in {lvl.value for lvl in SubscriptionLevel}:
        abort(400)
    services.set_subscription(idea, current_user, SubscriptionLevel(level))
    db.session.commit()
    messages = {
        "all": _("You will hear about every comment and status change."),
        "status": _("You will hear only when the status changes."),
        "none": _("You will not hear about this idea any more."),
    }
    flash(messages[level], "success")
    return redirect(url_for("ideas.show", idea_id=idea.id))

