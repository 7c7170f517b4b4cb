"""The admins' webhooks page, and the incoming status hook other tools post to."""

from __future__ import annotations

import json
import time

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
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from forum.api import present
from forum.api.routing import BadRequest, Unauthenticated
from forum.errors import DomainError, ValidationError, error_body
from forum.extensions import csrf, db
from forum.ideas import statuses
from forum.ideas.forms import EmptyForm
from forum.ideas.models import Idea
from forum.triage.access import admin_required
from forum.web import attempt, page_number, paginate
from forum.webhooks import services, signing
from forum.webhooks.forms import EndpointForm, StatusHookForm
from forum.webhooks.models import DeliveryState, StatusHook, WebhookEndpoint

bp = Blueprint("webhooks", __name__)


def _hook_form(formdata=None, **data) -> StatusHookForm:
    form = StatusHookForm(formdata=formdata, **data) if formdata is not None or data \
        else StatusHookForm()
    form.github_status.choices = [SelectChoice("", _("None: ignore GitHub events"))] + [
        SelectChoice(s.slug, _(s.name)) for s in statuses.all_statuses(include_retired=False)]
    return form


def hook_url(hook: StatusHook) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for("webhooks.receive_status", key=hook.key)


def _index(endpoint_form: EndpointForm | None = None, hook_form: StatusHookForm | None = None,
           *, shown: dict | None = None, status: int = 200):
    return render_template(
        "webhooks/index.html", endpoints=services.endpoints(), counts=services.state_counts(),
        hooks=services.status_hooks(), form=endpoint_form or EndpointForm(formdata=None),
        hook_form=hook_form or _hook_form(), action=EmptyForm(), shown=shown, hook_url=hook_url,
    ), status


@bp.get("/admin/webhooks")
@admin_required
def index():
    return _index()


@bp.post("/admin/webhooks")
@admin_required
def create():
    form = EndpointForm()
    if form.validate_on_submit():
        endpoint = attempt(lambda: services.create_endpoint(
            current_user, name=form.name.data, url=form.url.data, events=form.events.data,
            include_private=form.include_private.data, active=form.active.data), form)
        if endpoint is not None:
            db.session.commit()
            # The secret is in this response only: a flash would keep it in the session cookie.
            return _index(shown={"kind": "endpoint", "name": endpoint.name,
                                 "secret": endpoint.secret, "url": endpoint.url})
    return _index(endpoint_form=form, status=422)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    try:
        return services.get_endpoint(endpoint_id)
    except DomainError:
        abort(404)


@bp.route("/admin/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@admin_required
def edit(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    form = EndpointForm(obj=endpoint if request.method == "GET" else None)
    # On a refusal the rollback expires the half-changed endpoint: the page shows it as saved.
    if form.validate_on_submit() and attempt(lambda: services.update_endpoint(
            endpoint, current_user, name=form.name.data, url=form.url.data,
            events=form.events.data, include_private=form.include_private.data,
            active=form.active.data), form) is not None:
        db.session.commit()
        flash(_("Webhook saved."), "success")
        return redirect(url_for_endpoint(endpoint_id))
    page = paginate(services.deliveries(endpoint), page_number(), 50)
    return render_template("webhooks/endpoint.html", endpoint=endpoint, form=form, page=page,
                           action=EmptyForm(), states=DeliveryState,
                           ), 422 if form.errors else 200


def url_for_endpoint(endpoint_id: int) -> str:
    return url_for("webhooks.edit", endpoint_id=endpoint_id)


def _posted() -> None:
    if not EmptyForm().validate_on_submit():
        abort(400)


@bp.post("/admin/webhooks/<int:endpoint_id>/test")
@admin_required
def send_test(endpoint_id: int):
    _posted()
    services.send_test(_endpoint(endpoint_id), current_user)
    db.session.commit()
    flash(_("Test event queued; it appears below once the deliverer has sent it."), "success")
    return redirect(url_for_endpoint(endpoint_id))


@bp.post("/admin/webhooks/<int:endpoint_id>/secret")
@admin_required
def rotate_secret(endpoint_id: int):
    _posted()
    endpoint = _endpoint(endpoint_id)
    secret = services.rotate_endpoint_secret(endpoint, current_user)
    db.session.commit()
    return _index(shown={"kind": "endpoint", "name": endpoint.name, "secret": secret,
                         "url": endpoint.url})


@bp.post("/admin/webhooks/<int:endpoint_id>/delete")
@admin_required
def delete(endpoint_id: int):
    _posted()
    endpoint = _endpoint(endpoint_id)
    name = endpoint.name
    services.delete_endpoint(endpoint, current_user)
    db.session.commit()
    flash(_("Webhook “%(name)s” deleted; nothing more is sent to it.", name=name), "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/admin/webhooks/deliveries/<int:row_id>/redeliver")
@admin_required
def redeliver(row_id: int):
    _posted()
    try:
        row = services.redeliver(row_id, current_user)
    except DomainError as error:
        db.session.rollback()
        if error.status_code == 404:
            abort(404)
        flash(error.message, "error")
        return redirect(request.referrer or url_for("webhooks.index"))
    db.session.commit()
    flash(_("The delivery will be sent again, with the same delivery id."), "success")
    return redirect(url_for_endpoint(row.endpoint_id))


# --- incoming status hooks (admin side) ----------------------------------------------------

def _status_hook(hook_id: int) -> StatusHook:
    try:
        return services.get_status_hook(hook_id)
    except DomainError:
        abort(404)


@bp.post("/admin/status-hooks")
@admin_required
def create_status_hook():
    form = _hook_form(request.form)
    if form.validate_on_submit():
        hook = attempt(lambda: services.create_status_hook(
            current_user, name=form.name.data, github_status=form.github_status.data), form)
        if hook is not None:
            db.session.commit()
            return _index(shown={"kind": "hook", "name": hook.name, "secret": hook.secret,
                                 "url": hook_url(hook)})
    return _index(hook_form=form, status=422)


@bp.post("/admin/status-hooks/<int:hook_id>")
@admin_required
def update_status_hook(hook_id: int):
    hook = _status_hook(hook_id)
    form = _hook_form(request.form)
    if form.validate_on_submit():
        try:
            services.update_status_hook(hook, current_user, name=form.name.data,
                                        github_status=form.github_status.data,
                                        active=form.active.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Status hook saved."), "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("webhooks.index"))


@bp.post("/admin/status-hooks/<int:hook_id>/secret")
@admin_required
def rotate_status_hook_secret(hook_id: int):
    _posted()
    hook = _status_hook(hook_id)
    secret = services.rotate_status_hook_secret(hook, current_user)
    db.session.commit()
    return _index(shown={"kind": "hook", "name": hook.name, "secret": secret,
                         "url": hook_url(hook)})


@bp.post("/admin/status-hooks/<int:hook_id>/delete")
@admin_required
def delete_status_hook(hook_id: int):
    _posted()
    hook = _status_hook(hook_id)
    name = hook.name
    services.delete_status_hook(hook, current_user)
    db.session.commit()
    flash(_("Status hook “%(name)s” deleted; its address no longer works.", name=name),
          "success")
    return redirect(url_for("webhooks.index"))


# --- the incoming status hook itself -------------------------------------------------------

@bp.post("/hooks/status/<key>")
@csrf.exempt  # other tools post here without a session; the HMAC signature authenticates
def receive_status(key: str):
    """``{"idea": 12, "status": "shipped", "note"?, "release_notes"?}`` signed with the
    hook's secret, or a GitHub ``release``/``pull_request`` event signed GitHub's way."""
    try:
        hook = services.find_status_hook(key)
        raw = request.get_data(cache=True)
        github_event = request.headers.get("X-GitHub-Event")
        try:
            if github_event:
                signing.verify_github(hook.secret, request.headers.get("X-Hub-Signature-256"),
                                      raw)
            else:
                signing.verify(hook.secret, request.headers.get(signing.SIGNATURE_HEADER), raw,
                               now=int(time.time()),
                               tolerance=current_app.config["WEBHOOK_TOLERANCE_SECONDS"])
        except signing.BadSignature as error:
            raise Unauthenticated(str(error)) from None
        payload = _json_object(raw)
        if github_event:
            return _github(hook, github_event, payload)
        change = services.apply_status_update(hook, _status_update(payload))
        db.session.commit()
        idea = db.session.get(Idea, change.idea_id)
        return jsonify({"idea": present.idea(idea, None).model_dump(
            mode="json", by_alias=True, exclude_unset=True),
            "notified": change.notified_count})
    except DomainError as error:
        db.session.rollback()
        return jsonify(error_body(error.code, error.message, error.fields)), error.status_code


def _json_object(raw: bytes) -> dict:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise BadRequest("The body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise BadRequest("The body must be a JSON object.")
    return payload


def _status_update(payload: dict) -> services.StatusUpdate:
    fields = {}
    idea, status = payload.get("idea"), payload.get("status")
    if not isinstance(idea, int) or isinstance(idea, bool):
        fields["idea"] = "The idea's number, e.g. 12."
    if not isinstance(status, str) or not status:
        fields["status"] = "A status slug, e.g. shipped."
    texts = {name: payload.get(name, "") for name in ("note", "release_notes")}
    for name, value in texts.items():
        if not isinstance(value, str):
            fields[name] = "Text, or leave it out."
    unknown = set(payload) - {"idea", "status", "note", "release_notes"}
    for name in sorted(unknown):
        fields[name] = "Unknown field."
    if fields:
        raise ValidationError("Some fields are not valid.", fields)
    return services.StatusUpdate(idea=idea, status=status, **texts)


def _github(hook: StatusHook, event: str, payload: dict):
    if event == "ping":
        return jsonify({"ok": True, "hook": hook.name})
    changes, unchanged = services.apply_github_event(hook, event, payload)
    db.session.commit()
    if not changes and not unchanged:
        return jsonify({"ignored": event}), 202
    return jsonify({"changed": [c.idea_id for c in changes], "unchanged": unchanged,
                    "notified": sum(c.notified_count for c in changes)})
