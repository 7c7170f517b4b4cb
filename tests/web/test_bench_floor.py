"""The benchmark's floor (bench/floor.py) passes through what a vote passes through before the
vote's own code, or its figure would say less than it claims: sign-in, CSRF, the person read."""

from __future__ import annotations

import re

from bench.floor import add_floor
from forum import create_app, dbtuning
from forum.accounts import services as accounts
from forum.extensions import db
from tests.conftest import PASSWORD


def test_the_floor_needs_what_a_vote_needs(app_config):
    app = add_floor(create_app({**app_config, "WTF_CSRF_ENABLED": True}))
    with app.app_context():
        person = accounts.register(email="floor@example.com", name="Floor", password=PASSWORD)
        db.session.commit()
        person_id = person.id
        db.session.remove()
    client = app.test_client()
    json = {"Accept": "application/json"}

    assert getattr(app.view_functions["bench_floor"], dbtuning.READS_FIRST)  # reads as a vote
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/signin").text)[1]
    signed_out = client.post("/bench/floor", headers={**json, "X-CSRFToken": token})
    assert signed_out.status_code == 401

    client.post("/signin", data={"csrf_token": token, "email": "floor@example.com",
                                 "password": PASSWORD})
    assert client.post("/bench/floor", headers=json).status_code == 400  # still no CSRF token
    page_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/").text)[1]
    answered = client.post("/bench/floor", headers={**json, "X-CSRFToken": page_token})
    assert answered.status_code == 200
    assert answered.json == {"id": person_id}
    with app.app_context():
        db.engine.dispose()
