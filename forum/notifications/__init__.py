"""Closing the loop: who hears about what, in the app and by email.

- ``recipients``: set-based selection of who is told about a change (levels, frequency, merges).
- ``services``: in-app notifications, the outbox rows, preferences, unsubscribe, digests.
- ``receivers``: reactions to ``forum.signals`` (status changed, comment, merge, accounts).
- ``emails``: one context function per message; templates in ``templates/email/<name>/``;
  links that work without signing in carry tokens signed by ``forum.tokens``.
- ``senders``: SMTP, file, console and memory behind one interface, chosen by FORUM_MAIL_URL.
- ``delivery``: ``flask forum deliver`` and its delivery guarantee.
"""
