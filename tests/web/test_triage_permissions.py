"""The permission matrix of every team route: anonymous, customer, staff and admin."""

from __future__ import annotations

import pytest

from forum.extensions import db
from forum.ideas.models import Comment, Tag
from forum.moderation.models import Report, ReportReason
from forum.triage.models import SavedView

# (method, path, who may) — "staff" routes admit staff and admins, "admin" only admins.
ROUTES = [
    ("get", "/staff/inbox", "staff"),
    ("get", "/staff/ideas", "staff"),
    ("post", "/staff/ideas/bulk", "staff"),
    ("post", "/staff/views", "staff"),
    ("post", "/staff/views/{view}/delete", "staff"),
    ("post", "/staff/ideas/{idea}/reviewed", "staff"),
    ("post", "/staff/ideas/{idea}/status", "staff"),
    ("post", "/staff/ideas/{idea}/owner", "staff"),
    ("post", "/staff/ideas/{idea}/tags", "staff"),
    ("post", "/staff/ideas/{idea}/board", "staff"),
    ("post", "/staff/ideas/{idea}/priority", "staff"),
    ("post", "/staff/ideas/{idea}/hide", "staff"),
    ("post", "/staff/ideas/{idea}/unhide", "staff"),
    ("post", "/staff/ideas/{idea}/votes", "staff"),
    ("post", "/staff/comments/{comment}/hide", "staff"),
    ("post", "/staff/comments/{comment}/unhide", "staff"),
    ("get", "/staff/comments/{comment}/edit", "staff"),
    ("post", "/staff/comments/{comment}/edit", "staff"),
    ("get", "/staff/tags", "staff"),
    ("post", "/staff/tags", "staff"),
    ("post", "/staff/tags/{tag}", "staff"),
    ("post", "/staff/tags/{tag}/delete", "staff"),
    ("get", "/staff/export", "staff"),
    ("get", "/staff/export/ideas.csv", "staff"),
    ("get", "/staff/export/votes.csv", "staff"),
    ("get", "/staff/export/comments.csv", "staff"),
    ("get", "/staff/moderation", "staff"),
    ("post", "/staff/reports/{report}/resolve", "staff"),
    ("post", "/staff/people/{fred}/ban", "staff"),
    ("post", "/staff/people/{fred}/unban", "staff"),
    ("get", "/staff/insights", "staff"),
    ("get", "/admin/boards", "admin"),
    ("post", "/admin/boards", "admin"),
    ("post", "/admin/boards/{board}", "admin"),
    ("post", "/admin/boards/{board}/move", "admin"),
    ("get", "/admin/import", "admin"),
    ("post", "/admin/import", "admin"),
]
ALLOWED = {"staff": {"pam", "ada"}, "admin": {"ada"}}


@pytest.fixture
def targets(personas, make_idea):
    idea = make_idea(author=personas["fred"])
    comment = Comment(idea=idea, author=personas["fred"], body="Spam, spam")
    tag = Tag(slug="reporting", name="Reporting")
    views = {who: SavedView(user_id=personas[who].id, name="Mine", query="board=general")
             for who in ("pam", "ada")}
    db.session.add_all([comment, tag, *views.values()])
    db.session.flush()
    report = Report(reporter=personas["anna"], idea=idea, reason=ReportReason.SPAM)
    db.session.add(report)
    db.session.commit()
    return {"idea": idea.id, "comment": comment.id, "tag": tag.id,
            "views": {who: view.id for who, view in views.items()},
            "report": report.id, "fred": personas["fred"].id, "board": idea.board_id}


@pytest.mark.parametrize(("method", "path", "level"), ROUTES)
@pytest.mark.parametrize("who", [None, "anna", "pam", "ada"])
def test_permission_matrix(client, auth, targets, method, path, level, who):
    if who:
        auth.login(f"{who}@example.com")
    # Saved views are personal: each person deletes their own (or pam's, when not allowed).
    view = targets["views"].get(who, targets["views"]["pam"])
    response = getattr(client, method)(path.format(**targets, view=view))
    if who is None:
        assert response.status_code == 302
        assert "/signin" in response.headers["Location"]
    elif who in ALLOWED[level]:
        # Allowed: a page, a download, or the redirect back after a (possibly refused) post.
        assert response.status_code in ((200, 422) if method == "get" else (200, 302, 400, 422))
        if response.status_code == 302:
            assert "/signin" not in response.headers["Location"]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("path", ["/ideas/{idea}/report", "/comments/{comment}/report"])
def test_reporting_needs_a_session(client, targets, path):
    response = client.post(path.format(**targets, view=0), data={"reason": "spam"})
    assert response.status_code == 302
    assert "/signin" in response.headers["Location"]
