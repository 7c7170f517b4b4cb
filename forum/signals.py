"""Named signals, so that modules react to each other without importing each other.

Each is sent by a service after it has flushed its change, inside the open transaction:
receivers may add rows (outbox, notifications) to the same session, and must not commit.
"""

from blinker import Namespace

_signals = Namespace()

idea_created = _signals.signal("idea-created")
"""sender: the Idea just posted. kwargs: ``author``."""

idea_edited = _signals.signal("idea-edited")
"""sender: the Idea. kwargs: ``editor``, ``changes`` (field -> (old, new))."""

vote_cast = _signals.signal("vote-cast")
"""sender: the canonical Idea voted on. kwargs: ``voter``, ``vote_id``, ``source``."""

vote_added_on_behalf = _signals.signal("vote-added-on-behalf")
"""sender: the canonical Idea. kwargs: ``voter``, ``by`` (the staff member), ``source``,
``tell`` (staff ticked "tell them by email"). Sent only when the vote is new. Receiver:
notifications (the email to the customer when ``tell``)."""

vote_withdrawn = _signals.signal("vote-withdrawn")
"""sender: the canonical Idea. kwargs: ``voter``."""

comment_posted = _signals.signal("comment-posted")
"""sender: the Comment. kwargs: ``idea``, ``author``."""

status_changed = _signals.signal("status-changed")
"""sender: the Idea. kwargs: ``change`` (the StatusChange row), ``by``, ``release_notes``
(text given when shipping; may be empty). Receivers: notifications (notices, outbox, sets
``change.notified_count``), changelog (publishes the release notes)."""

ideas_merged = _signals.signal("ideas-merged")
"""sender: the canonical Idea. kwargs: ``merged`` (the Idea merged into it), ``by``."""

user_signed_up = _signals.signal("user-signed-up")
"""sender: the User who just signed up themselves. Receiver: notifications (confirmation mail)."""

confirmation_requested = _signals.signal("confirmation-requested")
"""sender: the User who asked for a new address-confirmation link. Receiver: notifications."""

password_reset_requested = _signals.signal("password-reset-requested")
"""sender: the User whose address was entered on the reset form. Receiver: notifications."""

ideas_unmerged = _signals.signal("ideas-unmerged")
"""sender: the former canonical Idea. kwargs: ``restored`` (the Idea split off), ``by``."""
