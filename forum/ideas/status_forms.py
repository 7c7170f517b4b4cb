from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from forum.ideas.statuses import NAME_MAX

KIND_CHOICES = [SelectChoice("open", _l("Open: waiting for a decision")),
                SelectChoice("active", _l("Active: accepted, being worked on")),
                SelectChoice("complete", _l("Complete: shipped")),
                SelectChoice("closed", _l("Closed: will not be done"))]


class StatusChangeForm(FlaskForm):
    status = SelectField(_l("New status"))
    note = TextAreaField(
        _l("Public note"), validators=[Optional(), Length(max=10_000)],
        description=_l("Shown on the idea's timeline and in the email. Required when declining."))
    release_notes = TextAreaField(
        _l("Release notes"), validators=[Optional(), Length(max=20_000)],
        description=_l("When shipping: published on the changelog, linked to this idea. "
                       "Markdown is supported."))


class StatusForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    color = StringField(_l("Colour"), default="#64748b", validators=[
        DataRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("Use the form #1a2b3c."))])
    on_roadmap = BooleanField(_l("Show on the roadmap"))


class NewStatusForm(StatusForm):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
