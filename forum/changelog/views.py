"""The changelog, its Atom feed, and the one-click satisfaction answers."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template, request
from flask_login import current_user

from forum.changelog import services
from forum.changelog.models import Answer
from forum.errors import DomainError
from forum.extensions import db
from forum.ideas.forms import EmptyForm
from forum.web import page_number, paginate

bp = Blueprint("changelog", __name__)
FEED_SIZE = 30


def _viewer():
    return current_user if current_user.is_authenticated else None


@bp.route("/changelog")
def index():
    page = paginate(services.entries(_viewer()), page_number(), 20)
    ids = [idea.id for entry in page.items for idea in entry.ideas]
    return render_template("changelog/list.html", page=page, summaries=services.summaries(ids))


@bp.route("/changelog.atom")
def feed():
    # A feed reader has no session: the feed is what anyone may read.
    entries = list(db.session.scalars(services.entries(None).limit(FEED_SIZE)).unique())
    body = render_template("changelog/feed.xml", entries=entries,
                           base_url=current_app.config["BASE_URL"].rstrip("/"))
    response = make_response(body)
    response.content_type = "application/atom+xml; charset=utf-8"
    return response


@bp.route("/satisfaction/<token>/<answer>", methods=["GET", "POST"])
def answer(token: str, answer: str):
    """The email's one-click answer. The first click records it; a later click with another
    answer asks before changing it (a link scanner may have clicked first)."""
    change = request.method == "POST"
    if change and not EmptyForm().validate_on_submit():
        change = False
    try:
        row, written = services.record_answer(token, answer, change=change)
    except DomainError:
        db.session.rollback()
        raise
    db.session.commit()
    _user, idea = services.read_answer_token(token)
    return render_template("changelog/answer.html", row=row, written=written, idea=idea,
                           asked=answer, token=token, answers=list(Answer), form=EmptyForm(),
                           summary=services.summaries([idea.id]).get(idea.id))
