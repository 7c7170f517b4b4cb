"""The staff dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from forum.ideas.models import Visibility
from forum.insights import charts, figures
from forum.triage.access import staff_required
from forum.triage.services import all_boards

bp = Blueprint("insights", __name__)


@bp.route("/staff/insights")
@staff_required
def dashboard():
    boards = all_boards()
    scope = request.args.get("scope", "all")
    if scope == "public":
        # The figures to share outside the team: nothing from members-only or staff boards.
        chosen = [b for b in boards if b.visibility == Visibility.PUBLIC]
    else:
        chosen = [b for b in boards if b.slug == scope] or boards
        scope = scope if scope in {b.slug for b in boards} else "all"
    data = figures.compute([b.id for b in chosen])
    weeks = [d.strftime("%d %b") for d in data.weekly.starts]
    return render_template(
        "insights/dashboard.html", data=data, boards=boards, scope=scope,
        ideas_chart=charts.bar_chart(weeks, data.weekly.ideas, title=_("New ideas per week")),
        votes_chart=charts.bar_chart(weeks, data.weekly.votes, title=_("Votes per week")),
        comments_chart=charts.bar_chart(weeks, data.weekly.comments,
                                        title=_("Comments per week")),
        status_chart=charts.bar_chart([_(s.name) for s, _n in data.by_status],
                                      [n for _s, n in data.by_status],
                                      title=_("Ideas by status")),
    )
