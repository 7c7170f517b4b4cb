"""The search page, and the similar-ideas JSON the new-idea form asks while someone types."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from forum.extensions import db, limiter
from forum.ideas import services as ideas
from forum.ideas.models import Status, Tag
from forum.ideas.services import BODY_MAX, TITLE_MAX
from forum.search import service
from forum.search.base import SORTS
from forum.web import page_number

bp = Blueprint("search", __name__)

# Longer queries add nothing a person could have meant and only cost time.
QUERY_MAX = 200


def _viewer():
    return current_user if current_user.is_authenticated else None


@bp.route("/search")
def search():
    viewer = _viewer()
    args = request.args
    query = args.get("q", "").strip()[:QUERY_MAX]
    board, status, tag = args.get("board") or "", args.get("status") or "", args.get("tag") or ""
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        sort = "relevance"
    asked = bool(query or board or status or tag)
    boards = ideas.visible_boards(viewer)
    results = service.search_ideas(
        query, viewer, board=board or None, status=status or None, tag=tag or None, sort=sort,
        page=page_number(), per_page=current_app.config["IDEAS_PER_PAGE"], visible=boards,
    ) if asked else None
    return render_template(
        "search/results.html", query=query, board=board, status=status, tag=tag, sort=sort,
        results=results, boards=boards,
        statuses=db.session.scalars(select(Status).where(Status.retired.is_(False))
                                    .order_by(Status.position)).all(),
        tags=db.session.scalars(select(Tag).order_by(Tag.name)).all(),
        sort_labels={"relevance": _("Best match"), "top": _("Most votes"), "new": _("Newest")},
    )


@bp.get("/similar")
@limiter.limit("120 per minute")
def similar():
    """Contract-shaped items (``id, title, status, votes, score, url``), plus what the
    suggestion box shows: the status's name and whether the viewer already voted."""
    try:
        limit = max(1, min(int(request.args.get("limit", 5)), 10))
    except ValueError:
        limit = 5
    exclude = {int(v) for v in request.args.getlist("exclude") if v.isdigit()}
    items = service.similar_ideas_for_form(request.args.get("title", "")[:TITLE_MAX * 2],
                                           request.args.get("body", "")[:BODY_MAX], _viewer(),
                                           limit=limit, exclude_ids=exclude)
    for item in items:
        item["status_name"] = _(item["status_name"])
    return jsonify(items)
