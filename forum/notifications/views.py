"""The bell and notifications page, preferences, unsubscribe links and the staff send log."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum import tokens
from forum.errors import DomainError
from forum.extensions import csrf, db
from forum.ideas.forms import EmptyForm
from forum.ideas.models import SubscriptionLevel
from forum.ideas.status_views import staff_required
from forum.notifications import services
from forum.notifications.forms import PreferencesForm, TestMailForm
from forum.notifications.senders import from_url
from forum.web import page_number, paginate, show_on_form

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def index():
    page = paginate(services.notices_of(current_user), page_number(), 30)
    return render_template("notifications/list.html", page=page, form=EmptyForm())


@bp.get("/notifications/<int:notice_id>")
@login_required
def open_notice(notice_id: int):
    notice = services.open_notice(current_user, notice_id)
    db.session.commit()
    anchor = f"#comment-{notice.comment_id}" if notice.comment_id else ""
    return redirect(url_for("ideas.show", idea_id=notice.idea_id) + anchor)


@bp.post("/notifications/read")
@login_required
def read_all():
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.mark_all_read(current_user)
    db.session.commit()
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    form = PreferencesForm(data={"frequency": current_user.notify_frequency.value}
                           if request.method == "GET" else None)
    if form.validate_on_submit():
        levels = {int(key.split("-", 1)[1]): value for key, value in request.form.items()
                  if key.startswith("level-") and key.split("-", 1)[1].isdigit()}
        try:
            services.set_preferences(current_user, frequency=form.frequency.data, levels=levels)
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(_("Your notification preferences are saved."), "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form,
                           followed=services.followed(current_user), levels=SubscriptionLevel
                           ), 422 if form.errors else 200


@bp.post("/settings/confirm")
@login_required
def resend_confirmation():
    from forum.accounts.services import request_confirmation

    if not EmptyForm().validate_on_submit():
        abort(400)
    request_confirmation(current_user)
    db.session.commit()
    flash(_("We sent you a new link: follow it to confirm your address."), "info")
    return redirect(url_for("notifications.preferences"))


# --- unsubscribe (no sign-in: the signed token is the authentication) ---------------------


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    payload = tokens.read("unsubscribe", token)
    from forum.ideas.models import Idea

    idea = db.session.get(Idea, payload["i"]) if payload.get("i") else None
    return render_template("notifications/unsubscribe.html", token=token, idea=idea, done=None)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # mail clients post here (RFC 8058) with no session; the token authenticates
def unsubscribe(token: str):
    payload = tokens.read("unsubscribe", token)
    if request.form.get("scope") == "all":
        user, idea = services.stop_all_email(payload["u"]), None
    else:
        user, idea = services.unsubscribe(payload["u"], payload.get("i"))
    db.session.commit()
    return render_template("notifications/unsubscribe.html", token=token, idea=idea,
                           done="idea" if idea is not None else "all", user=user)


# --- the send log -------------------------------------------------------------------------


@bp.route("/admin/mail", methods=["GET", "POST"])
@staff_required
def mail_log():
    form = TestMailForm(data={"to": current_user.email} if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            services.send_test(form.to.data, current_user)
        except DomainError as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(_("Test message queued; it appears below once the deliverer has sent it."),
                  "success")
            return redirect(url_for("notifications.mail_log"))
    page = paginate(services.mail_log(), page_number(), 50)
    return render_template(
        "notifications/mail_log.html", form=form, page=page, counts=services.state_counts(),
        last_error=services.last_error(), action=EmptyForm(),
        sender=from_url(current_app.config["MAIL_URL"]).description,
    ), 422 if form.errors else 200


@bp.post("/admin/mail/<int:message_id>/retry")
@staff_required
def retry(message_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.retry(message_id, current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        db.session.commit()
        flash(_("The message will be sent again."), "success")
    return redirect(url_for("notifications.mail_log"))

