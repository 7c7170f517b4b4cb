"""The staff dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from forum.changelog.models import Answer
from forum.db import utcnow
from forum.ideas.models import Visibility
from forum.ideas.workflow import StatusKind
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
    weeks = [format_date(d, "d MMM") for d in data.weekly.starts]
    _ends, over_time = figures.status_over_time([b.id for b in chosen], utcnow())
    answer_names = {Answer.YES: _("Yes"), Answer.PARTLY: _("Partly"), Answer.NO: _("No")}
    kind_names = {StatusKind.OPEN: _("Open"), StatusKind.ACTIVE: _("Active"),
                  StatusKind.COMPLETE: _("Done"), StatusKind.CLOSED: _("Closed")}
    return render_template(
        "insights/dashboard.html", data=data, boards=boards, scope=scope,
        ideas_chart=charts.bar_chart(weeks, data.weekly.ideas, title=_("New ideas per week"),
                                     number=format_decimal),
        votes_chart=charts.bar_chart(weeks, data.weekly.votes, title=_("Votes per week"),
                                     number=format_decimal),
        comments_chart=charts.bar_chart(weeks, data.weekly.comments,
                                        title=_("Comments per week"), number=format_decimal),
        over_time_chart=charts.stacked_bar_chart(
            weeks, [(kind_names[k], f"kind-{k.value}", over_time[k]) for k in StatusKind],
            title=_("Ideas by status over time"), number=format_decimal),
        over_time=[(kind_names[k], over_time[k]) for k in StatusKind], weeks=weeks,
        answer_names=[answer_names[a] for a in data.satisfaction],
        satisfaction_chart=charts.bar_chart(
            [answer_names[a] for a in data.satisfaction], list(data.satisfaction.values()),
            title=_("After shipping: does this solve what you asked for?")),
        status_chart=charts.bar_chart([_(s.name) for s, _n in data.by_status],
                                      [n for _s, n in data.by_status],
                                      title=_("Ideas by status"), number=format_decimal),
        status_names=[_(s.name) for s, _n in data.by_status],
    )
