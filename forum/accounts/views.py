from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from forum.accounts import services, tokens
from forum.accounts.forms import (
    ForgotPasswordForm,
    ResetPasswordForm,
    SignInForm,
    SignUpForm,
    TokenForm,
)
from forum.accounts.models import User
from forum.extensions import db, limiter
from forum.ideas import queries
from forum.ideas import services as ideas
from forum.ideas.forms import EmptyForm
from forum.moderation.limits import signup_limit
from forum.web import attempt, safe_next

bp = Blueprint("accounts", __name__)


def _start_session(user: User, remember: bool) -> None:
    # A fresh session on sign-in: nothing planted before (session fixation) survives.
    session.clear()
    login_user(user, remember=remember)


def _limit(name: str):
    """A limit read from the configuration at request time (tests and sites tune it)."""
    return lambda: current_app.config[name]


def _account_key() -> str:
    # Folded the way find_by_email folds it: every spelling of one address is one account to
    # the limit, as it is to the sign-in.
    return "account:" + services.account_key(request.form.get("email") or "")


def _failed(response: Response) -> bool:
    return response.status_code != 302


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(signup_limit, methods=["POST"])
@limiter.limit(_limit("SIGNUP_LIMIT_PER_ADDRESS"), methods=["POST"], deduct_when=_failed)
def sign_up():
    if current_user.is_authenticated:
        return redirect(url_for("ideas.index"))
    form = SignUpForm()
    if form.validate_on_submit():
        if form.website.data:
            # A bot filled the honeypot: look like success, create nothing.
            flash(_("Thank you for signing up."), "success")
            return redirect(url_for("ideas.index"))
        user = attempt(lambda: services.sign_up(email=form.email.data, name=form.name.data,
                                                password=form.password.data), form)
        if user is not None:
            db.session.commit()
            _start_session(user, remember=False)
            flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
            flash(_("We sent you an email: follow its link to confirm your address and "
                    "receive news about the ideas you follow."), "info")
            return redirect(safe_next(url_for("ideas.index")))
    return render_template("accounts/sign_up.html", form=form), 422 if form.errors else 200


@bp.route("/signin", methods=["GET", "POST"])
@limiter.limit(_limit("SIGNIN_LIMIT_PER_ADDRESS"), methods=["POST"], deduct_when=_failed)
@limiter.limit(_limit("SIGNIN_LIMIT_PER_ACCOUNT"), methods=["POST"], deduct_when=_failed,
               key_func=_account_key)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("ideas.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("That email and password do not match an account."))
        elif not user.is_active:
            form.email.errors.append(_("This account has been suspended."))
        else:
            _start_session(user, remember=form.remember.data)
            flash(_("Signed in. Welcome back, %(name)s.", name=user.name), "success")
            return redirect(safe_next(url_for("ideas.index")))
    return render_template("accounts/sign_in.html", form=form), 422 if form.errors else 200


@bp.post("/signout")
def sign_out():
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("ideas.index"))


@bp.route("/people/<int:user_id>")
def profile(user_id: int):
    person = db.get_or_404(User, user_id)
    viewer = current_user if current_user.is_authenticated else None
    boards = ideas.visible_boards(viewer)
    posted = db.session.scalars(queries.ideas_by_author(person.id, boards).limit(100)).all()
    voted = []
    if viewer is not None and (viewer.id == person.id or viewer.is_staff):
        # What someone voted for is theirs to see (and the team's), not the public's.
        voted = db.session.scalars(queries.ideas_voted_by(person.id, boards).limit(100)).all()
    return render_template("accounts/profile.html", person=person, posted=posted, voted=voted)


@bp.route("/me")
@login_required
def me():
    return redirect(url_for("accounts.profile", user_id=current_user.id))


@bp.route("/account")
@login_required
def account():
    return _account_page(TokenForm())


def _account_page(form: TokenForm, new_secret: str | None = None, status: int = 200):
    return render_template("accounts/account.html", form=form, new_secret=new_secret,
                           tokens=tokens.tokens_of(current_user), revoke_form=EmptyForm(),
                           ), status


@bp.post("/account/tokens")
@login_required
def create_token():
    form = TokenForm()
    if form.validate_on_submit():
        new = attempt(lambda: tokens.create_token(current_user, form.name.data), form)
        if new is not None:
            db.session.commit()
            # Shown in this response only: a flash would keep the secret in the session cookie.
            return _account_page(TokenForm(formdata=None), new_secret=new.secret)
    return _account_page(form, status=422)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    token = tokens.revoke_token(current_user, token_id)
    db.session.commit()
    flash(_("The token “%(name)s” is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("accounts.account"))


def _reset_rate_limit() -> str:
    return current_app.config["PASSWORD_RESET_RATE_LIMIT"]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_reset_rate_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account here.
        flash(_("If an account uses that address, we have sent it a link to choose a new "
                "password. The link works for one hour."), "info")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/forgot.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    services.user_for_reset(token)  # an expired or used link says so before any typing
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = attempt(lambda: services.reset_password(token, form.password.data), form)
        if user is not None:
            db.session.commit()
            _start_session(user, remember=False)
            flash(_("Your new password is set, and you are signed in."), "success")
            return redirect(url_for("ideas.index"))
    return render_template("accounts/reset.html", form=form), 422 if form.errors else 200


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    services.confirm_email(token)
    db.session.commit()
    flash(_("Thank you: your address is confirmed."), "success")
    return redirect(url_for("ideas.index"))
