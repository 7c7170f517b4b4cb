from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length

from forum.accounts.services import NAME_MAX, PASSWORD_MIN


class SignUpForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])
    password = PasswordField(
        _l("Password"), validators=[
            DataRequired(),
            Length(min=PASSWORD_MIN, message=_l("Use at least %(min)d characters.")),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
        ],
        description=_l("At least %(n)s characters.", n=PASSWORD_MIN),
    )
    # Honeypot: hidden from people by CSS, filled by bots. Anything in it and nothing is created.
    website = StringField(_l("Leave this empty"))


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me signed in"))


class TokenForm(FlaskForm):
    name = StringField(_l("What is it for?"), validators=[DataRequired(), Length(max=80)],
                       description=_l("For example “release script” or “support desk”."))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(check_deliverability=False)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=[
            DataRequired(),
            Length(min=PASSWORD_MIN, message=_l("Use at least %(min)d characters.")),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
        ],
        description=_l("At least %(n)s characters.", n=PASSWORD_MIN),
    )
