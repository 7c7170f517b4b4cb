"""Writes are limited per token and per address (the suite's config turns limits off; these
tests turn them back on with small numbers)."""

import pytest

from forum.accounts import tokens
from forum.extensions import db


@pytest.fixture
def app_config(app_config):
    return {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
            "API_WRITE_LIMIT_PER_TOKEN": "3 per minute",
            "API_WRITE_LIMIT_PER_ADDRESS": "5 per minute"}


def test_writes_over_the_token_limit_answer_429_with_retry_after(client, as_, make_idea):
    idea = make_idea()
    url = f"/api/v1/ideas/{idea.id}/vote"
    for _ in range(3):
        assert client.post(url, headers=as_["anna"]).status_code == 200
    limited = client.post(url, headers=as_["anna"])
    assert limited.status_code == 429
    assert limited.json["error"] == "rate_limited" and limited.json["message"]
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # Reads are not limited, and another token has its own allowance.
    assert client.get(f"/api/v1/ideas/{idea.id}", headers=as_["anna"]).status_code == 200
    assert client.post(url, headers=as_["bob"]).status_code == 200


def test_many_tokens_from_one_address_meet_the_address_limit(client, personas, make_idea):
    idea = make_idea()
    url = f"/api/v1/ideas/{idea.id}/vote"
    statuses = []
    for _ in range(7):
        secret = tokens.create_token(personas["anna"], "one of many").secret
        db.session.commit()
        statuses.append(client.post(url, headers={"Authorization": f"Bearer {secret}"})
                        .status_code)
    assert statuses == [200] * 5 + [429] * 2
