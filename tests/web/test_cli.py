from forum.accounts.models import Role, User
from forum.extensions import db
from forum.ideas.models import Idea, StatusChange


def test_create_user(runner):
    result = runner.invoke(args=["forum", "create-user", "pm@example.com", "--password",
                                 "a good password", "--role", "staff", "--name", "Priya"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.email == "pm@example.com"))
    assert user.role == Role.STAFF and user.name == "Priya"
    assert user.check_password("a good password")


def test_create_user_refuses_duplicates_and_short_passwords(runner, make_user):
    make_user(email="taken@example.com")
    result = runner.invoke(args=["forum", "create-user", "taken@example.com", "--password",
                                 "a good password"])
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(args=["forum", "create-user", "new@example.com", "--password", "short"])
    assert result.exit_code != 0 and "too short" in result.output


def test_seed_demo_is_idempotent_and_believable(runner):
    first = runner.invoke(args=["forum", "seed-demo"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(db.select(db.func.count(Idea.id)))
    assert count >= 40
    again = runner.invoke(args=["forum", "seed-demo"])
    assert again.exit_code == 0
    assert db.session.scalar(db.select(db.func.count(Idea.id))) == count
    skipped = runner.invoke(args=["forum", "seed-demo", "--if-empty"])
    assert "already has ideas" in skipped.output
    check = runner.invoke(args=["forum", "check"])
    assert check.exit_code == 0 and "No drift" in check.output


def test_check_finds_and_fixes_drift(runner, make_idea):
    idea = make_idea()
    idea.vote_count = 41
    db.session.commit()
    result = runner.invoke(args=["forum", "check"])
    assert result.exit_code == 1 and f"idea {idea.id}: vote_count 41, voters 1" in result.output
    fixed = runner.invoke(args=["forum", "check", "--fix"])
    assert fixed.exit_code == 0
    assert runner.invoke(args=["forum", "check"]).exit_code == 0


def test_set_status(runner, make_idea, personas):
    idea = make_idea()
    result = runner.invoke(args=["forum", "set-status", str(idea.id), "shipped", "--note",
                                 "Released in 2.4", "--by", "pam@example.com"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).status.slug == "shipped"
    change = db.session.scalar(db.select(StatusChange))
    assert change.via == "cli" and change.note == "Released in 2.4"


def test_set_status_refusals_change_nothing(runner, make_idea, personas):
    idea = make_idea()
    assert runner.invoke(args=["forum", "set-status", "999", "shipped"]).exit_code != 0
    unknown = runner.invoke(args=["forum", "set-status", str(idea.id), "nonsense"])
    assert unknown.exit_code != 0 and "No status" in unknown.output
    no_note = runner.invoke(args=["forum", "set-status", str(idea.id), "declined"])
    assert no_note.exit_code != 0 and "note" in no_note.output
    customer = runner.invoke(args=["forum", "set-status", str(idea.id), "planned", "--by",
                                   "fred@example.com"])
    assert customer.exit_code != 0
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).status.slug == "open"
    assert db.session.scalar(db.select(db.func.count(StatusChange.id))) == 0


def test_set_status_ships_with_release_notes_and_tells_the_voters(runner, make_idea, personas):
    from forum.changelog.models import ChangelogEntry
    from forum.ideas import services
    from forum.notifications.models import OutboxMessage

    idea = make_idea(author=personas["bob"])
    services.cast_vote(idea, personas["anna"])
    db.session.commit()
    result = runner.invoke(args=["forum", "set-status", str(idea.id), "shipped", "--by",
                                 "pam@example.com", "--release-notes", "In version 2.4."])
    assert result.exit_code == 0 and "(2 notified)" in result.output
    entry = db.session.scalar(db.select(ChangelogEntry))
    assert entry.body == "In version 2.4." and [i.id for i in entry.ideas] == [idea.id]
    assert sorted(db.session.scalars(db.select(OutboxMessage.to_address))) == [
        "anna@example.com", "bob@example.com"]
