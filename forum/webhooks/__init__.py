"""Webhooks: events posted to other tools, and a receiver that lets them change statuses.

- ``models``: outgoing endpoints, their delivery rows (an outbox), incoming status hooks.
- ``signing``: the HMAC-SHA256 signature both directions use (pure, no app needed).
- ``events``: the JSON body of each event, in the API's schemas.
- ``receivers``: reactions to ``forum.signals`` writing one delivery row per (event, endpoint)
  in the transaction of the change.
- ``delivery``: posting due rows (``flask forum deliver`` runs it beside the mail outbox).
- ``services``: the admins' operations and the incoming status update.
- ``views``/``forms``: the admin page ``/admin/webhooks`` and ``POST /hooks/status/<key>``.
"""
