"""The search index follows the database after each commit, and can always be rebuilt."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest
from sqlalchemy import text

from forum.extensions import db
from forum.ideas import merging
from forum.ideas import services as ideas
from forum.ideas.models import Idea, Tag
from forum.search import indexing, service
from forum.search.base import fingerprint
from forum.search.indexing import document
from forum.search.postgres_backend import PostgresBackend


def found(query: str) -> list[int]:
    return [hit.id for hit in service.backend().search(query).hits]


def test_a_new_idea_is_searchable_after_commit(make_idea, no_drift):
    idea = make_idea("Export invoices as spreadsheets", "Accounting wants CSV files.")
    assert found("spreadsheets") == [idea.id]
    assert service.backend().stored_versions()[idea.id] == fingerprint(document(idea))


def test_nothing_reaches_the_index_before_commit_or_after_rollback(personas, general):
    idea = ideas.submit_idea(personas["anna"], title="Keyboard shortcuts everywhere", body="",
                             board=general)
    assert found("shortcuts") == []
    db.session.rollback()
    db.session.commit()  # an unrelated commit later must not resurrect the rolled-back idea
    assert found("shortcuts") == []
    assert db.session.get(Idea, idea.id) is None


def test_edits_comments_votes_and_tags_are_followed(make_idea, personas, no_drift):
    idea = make_idea("Dark mode for the dashboard", author=personas["anna"])
    ideas.edit_idea(idea, personas["anna"], title="Night theme for the dashboard", body="")
    db.session.commit()
    assert found("night theme") == [idea.id] and found("dark") == []
    ideas.post_comment(idea, personas["bob"], "Please include the mobile application too")
    db.session.commit()
    assert found("mobile application") == [idea.id]
    ideas.cast_vote(idea, personas["bob"])
    db.session.commit()
    assert not indexing.drift()
    idea.tags.append(Tag(slug="ui", name="UI"))
    db.session.commit()
    assert [h.id for h in service.backend().search("", tag="ui").hits] == [idea.id]
    tag = db.session.scalar(db.select(Tag).where(Tag.slug == "ui"))
    tag.slug = "interface"
    db.session.commit()
    assert [h.id for h in service.backend().search("", tag="interface").hits] == [idea.id]


def test_internal_notes_are_not_searchable(make_idea, personas):
    idea = make_idea()
    ideas.post_comment(idea, personas["pam"], "Customer Zanzibar pays for this", internal=True)
    db.session.commit()
    assert found("zanzibar") == []


def test_deleted_and_hidden_ideas_leave_the_index(make_idea, no_drift):
    gone, hidden = make_idea("Calendar sync with Outlook"), make_idea("Calendar sync with Google")
    db.session.delete(gone)
    hidden.hidden_at = hidden.created_at
    db.session.commit()
    assert found("calendar") == []
    assert service.backend().count() == 0


def test_merges_and_unmerges_are_followed(make_idea, personas, no_drift):
    canonical = make_idea("Two-factor authentication with an app")
    duplicate = make_idea("Two factor login using TOTP codes")
    merging.merge_ideas(duplicate, canonical, personas["pam"])
    db.session.commit()
    assert found("totp") == []
    assert [i for i, _ in service.backend().similar("two factor totp codes")] == [canonical.id]
    merging.unmerge_idea(duplicate, personas["pam"])
    db.session.commit()
    assert found("totp") == [duplicate.id]


def test_reindex_equals_live_indexing(runner, make_idea, personas, no_drift):
    first = make_idea("Bulk edit of ideas", "Select many and change the status.")
    second = make_idea("Bulk delete of spam")
    ideas.post_comment(first, personas["bob"], "Yes, with keyboard selection.")
    merging.merge_ideas(second, first, personas["pam"])
    db.session.commit()
    live = service.backend().stored_versions()
    result = runner.invoke(args=["forum", "reindex"])
    assert result.exit_code == 0, result.output
    assert "2 idea(s) indexed" in result.output
    assert service.backend().stored_versions() == live


def test_after_a_reindex_search_and_similar_ideas_answer_as_before(runner, make_idea, personas,
                                                                 no_drift):
    dark = make_idea("Dark mode for the dashboard", "Night theme, easier on the eyes.")
    make_idea("Export invoices as spreadsheets", "Accounting wants CSV files.")
    make_idea("Mode sombre pour le tableau de bord", "Le thème clair fatigue les yeux le soir.")
    ideas.post_comment(dark, personas["bob"], "Also for the mobile application please")
    dark.tags.append(Tag(slug="ui", name="UI"))
    db.session.commit()
    backend = service.backend()

    def similar(title: str) -> list[tuple[int, float]]:
        # The recency bonus moves with the clock: scores are compared to a millionth.
        return [(i, round(score, 6)) for i, score in backend.similar(title)]

    def answers() -> list[object]:
        return [found("dark mode"), found("mobile application"), found("tableau"),
                found("spreadshets"), [h.id for h in backend.search("", tag="ui").hits],
                similar("Dark theme for the dashboard"), similar("Thème sombre du tableau de bord")]

    before = answers()
    assert before[0] == before[1] == [dark.id]
    assert runner.invoke(args=["forum", "reindex"]).exit_code == 0
    assert answers() == before


def test_the_index_can_be_deleted_and_rebuilt(app, runner, make_idea, no_drift):
    idea = make_idea("Webhooks when a status changes")
    service.close(app)
    if app.config["SEARCH_BACKEND"] == "whoosh":
        shutil.rmtree(app.config["SEARCH_INDEX_DIR"])
    else:  # what an operator who empties the table by hand does
        db.session.execute(db.text("DELETE FROM search_documents"))
        db.session.commit()
    assert found("webhooks") == []  # a new, empty index opens on demand
    assert runner.invoke(args=["forum", "check"]).exit_code == 1
    assert runner.invoke(args=["forum", "reindex"]).exit_code == 0
    assert found("webhooks") == [idea.id]


def test_check_reports_missing_stale_and_extra_entries_and_fix_repairs(runner, make_idea):
    missing, stale = make_idea("Missing from the index"), make_idea("Stale in the index")
    backend = service.backend()
    backend.remove([missing.id])
    backend.index([replace(document(stale), title="An older title"),
                   replace(document(missing), id=4242)])
    result = runner.invoke(args=["forum", "check"])
    assert result.exit_code == 1
    assert f"idea {missing.id}: missing from the search index" in result.output
    assert f"idea {stale.id}: stale in the search index" in result.output
    assert "search index: idea 4242 should not be there" in result.output
    assert runner.invoke(args=["forum", "check", "--fix"]).exit_code == 0
    result = runner.invoke(args=["forum", "check"])
    assert result.exit_code == 0 and "No drift" in result.output


def test_a_failing_index_never_loses_the_write(app, client, auth, personas, general,
                                               monkeypatch, runner):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(service.backend(), "refresh", broken)
    auth.login("anna@example.com")
    response = client.post("/ideas/new", data={"title": "Offline mode for the mobile app",
                                               "body": "", "board": general.id})
    assert response.status_code == 302
    idea = db.session.scalar(db.select(Idea).where(Idea.title == "Offline mode for the mobile app"))
    assert idea is not None and idea.vote_count == 1
    monkeypatch.undo()
    assert f"idea {idea.id}: missing from the search index" in runner.invoke(
        args=["forum", "check"]).output
    assert runner.invoke(args=["forum", "reindex"]).exit_code == 0
    assert found("offline") == [idea.id]


def test_the_backend_is_opened_once_per_index_and_process(app, app_config):
    from forum import create_app

    assert service.backend() is service.backend(app)
    # A second app object on the same index shares the open backend: two writers on one
    # folder in one process would corrupt it.
    assert service.backend(create_app(app_config)) is service.backend(app)


def test_an_unknown_backend_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(RuntimeError, match="FORUM_SEARCH_BACKEND='elastic' is not available"):
        service.open_backend({"SEARCH_BACKEND": "elastic", "SEARCH_INDEX_DIR": str(tmp_path)})
    whoosh = service.open_backend({"SEARCH_BACKEND": "whoosh", "SEARCH_INDEX_DIR": str(tmp_path)})
    try:
        assert whoosh.count() == 0
    finally:
        whoosh.close()


def index_writes() -> int:
    """Grows with every write to the index: Whoosh's generation, PostgreSQL's revision."""
    backend = service.backend()
    if isinstance(backend, PostgresBackend):
        with db.engine.connect() as connection:
            return connection.execute(text("SELECT revision FROM search_state")).scalar_one()
    return backend._ix.latest_generation()  # type: ignore[attr-defined]


def test_votes_write_nothing_to_the_index_and_top_follows_the_database(make_idea, personas,
                                                                      no_drift):
    older, newer = make_idea("Calendar sync with Outlook"), make_idea("Calendar sync with Google")
    generation = index_writes()
    for voter in ("bob", "pam"):
        ideas.cast_vote(newer, personas[voter])
        db.session.commit()
    assert index_writes() == generation

    def top() -> list[int]:
        return [r.idea.id for r in service.search_ideas("calendar", None, sort="top").items]

    assert top() == [newer.id, older.id]
    for voter in ("bob", "pam"):
        ideas.withdraw_vote(newer, personas[voter])
        ideas.cast_vote(older, personas[voter])
        db.session.commit()
    assert top() == [older.id, newer.id]
    assert index_writes() == generation
