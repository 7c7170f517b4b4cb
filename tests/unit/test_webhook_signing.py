"""The webhook signature, both ways, without an app."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from forum.webhooks import signing

BODY = b'{"idea":12,"status":"shipped"}'
NOW = 1_795_430_400


def test_the_signature_is_hmac_sha256_of_the_timestamp_and_the_body():
    header = signing.sign("whsec_k", NOW, BODY)
    expected = hmac.new(b"whsec_k", b"1795430400." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert signing.verify("whsec_k", header, BODY, now=NOW + 299, tolerance=300) == NOW


@pytest.mark.parametrize("header, now", [
    (None, NOW),
    ("", NOW),
    ("v1=abc", NOW),
    (f"t={NOW}", NOW),
    (f"t=yesterday,v1={signing.digest('whsec_k', NOW, BODY)}", NOW),
    (signing.sign("whsec_other", NOW, BODY), NOW),
    (signing.sign("whsec_k", NOW, BODY + b" "), NOW),
    (signing.sign("whsec_k", NOW, BODY), NOW + 301),   # replayed later
    (signing.sign("whsec_k", NOW, BODY), NOW - 301),   # from the future
])
def test_anything_else_is_refused(header, now):
    with pytest.raises(signing.BadSignature):
        signing.verify("whsec_k", header, BODY, now=now, tolerance=300)


def test_one_valid_signature_among_several_is_enough():
    header = f"t={NOW},v1=deadbeef,v1={signing.digest('whsec_k', NOW, BODY)}"
    assert signing.verify("whsec_k", header, BODY, now=NOW, tolerance=5) == NOW


def test_github_signatures():
    good = "sha256=" + hmac.new(b"whsec_k", BODY, hashlib.sha256).hexdigest()
    signing.verify_github("whsec_k", good, BODY)
    for bad in (None, "sha1=abc", "sha256=" + "0" * 64):
        with pytest.raises(signing.BadSignature):
            signing.verify_github("whsec_k", bad, BODY)


def test_secrets_are_long_and_distinct():
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_") and len(first) >= 48 and first != second
