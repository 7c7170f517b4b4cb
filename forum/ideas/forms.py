from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from forum.ideas.services import BODY_MAX, COMMENT_MAX, TITLE_MAX, TITLE_MIN


class IdeaForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[
            DataRequired(),
            Length(min=TITLE_MIN, message=_l("Use at least %(min)d characters.")),
            Length(max=TITLE_MAX, message=_l("Use at most %(max)d characters.")),
        ],
        description=_l("One sentence: what would you like to be able to do?"),
    )
    body = TextAreaField(
        _l("Details"), validators=[Optional(), Length(max=BODY_MAX)],
        description=_l("Why does it matter to you? Markdown is supported."),
    )
    board = SelectField(_l("Board"), coerce=int)
    # Honeypot: hidden from people by CSS, filled by bots. Anything in it and the post is dropped.
    website = StringField(_l("Leave this empty"))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=COMMENT_MAX)])


class EmptyForm(FlaskForm):
    """For buttons that post (vote, follow, sign out): CSRF token only."""
