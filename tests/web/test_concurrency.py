"""Races between requests, played in threads with a session each (as two workers would)."""

import threading

from forum.accounts import services as accounts
from forum.accounts.models import User
from forum.errors import Conflict
from forum.extensions import db


def test_two_sign_ups_with_one_address_at_once_make_one_account(app):
    registered = threading.Event()
    outcomes: dict[str, str] = {}

    def sign_up(who: str, *, first: bool) -> None:
        with app.app_context():
            if not first:
                registered.wait(5)
            try:
                accounts.register(email="twice@example.com", name=who, password="long enough")
                if first:
                    # The second request checks for the address while this one is uncommitted.
                    registered.set()
                    threading.Event().wait(0.5)
                db.session.commit()
                outcomes[who] = "created"
            except Conflict as error:
                db.session.rollback()
                outcomes[who] = error.fields["email"]
            finally:
                registered.set()
                db.session.remove()

    threads = [threading.Thread(target=sign_up, args=("First",), kwargs={"first": True}),
               threading.Thread(target=sign_up, args=("Second",), kwargs={"first": False})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert outcomes == {"First": "created",
                        "Second": "An account with that email already exists."}
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1
