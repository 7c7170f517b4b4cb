from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from forum.webhooks.events import EVENTS
from forum.webhooks.services import NAME_MAX, URL_MAX


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EndpointForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)],
                       description=_l("What receives it, e.g. “Slack #product”."))
    # The service checks the scheme and host, with the reason shown beside the field.
    url = StringField(_l("URL"), validators=[DataRequired(), Length(max=URL_MAX)],
                      description=_l("We POST signed JSON here (http:// or https://)."))
    events = CheckboxesField(_l("Events"),
                             choices=[SelectChoice(k, v) for k, v in EVENTS.items()],
                             validators=[DataRequired(_l("Tick at least one event."))])
    include_private = BooleanField(
        _l("Include private boards"),
        description=_l("Also send events about ideas on members-only and staff-only boards "
                       "and hidden ideas. Internal notes are never sent."))
    active = BooleanField(_l("Active"), default=True,
                          description=_l("Switched off, nothing is recorded or sent."))


class StatusHookForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)],
                       description=_l("Who posts to it, e.g. “Release pipeline”."))
    github_status = SelectField(
        _l("Status for GitHub events"),
        description=_l("A published release or a merged pull request moves the ideas it "
                       "mentions (“Ships idea #12”, or a link to the idea) to this status."))
    active = BooleanField(_l("Active"), default=True)
