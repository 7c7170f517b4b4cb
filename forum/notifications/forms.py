from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email

FREQUENCY_CHOICES = [
    SelectChoice("immediately", _l("Immediately: one email per update")),
    SelectChoice("daily", _l("Daily: one digest email a day (shipped news still comes at once)")),
    SelectChoice("never", _l("Never: only the notifications on this site")),
]


class PreferencesForm(FlaskForm):
    frequency = RadioField(_l("Email me"), choices=FREQUENCY_CHOICES,
                           validators=[DataRequired()])


class TestMailForm(FlaskForm):
    to = EmailField(_l("Send a test message to"),
                    validators=[DataRequired(), Email(check_deliverability=False)])
