"""CSV export, and import of Fider's posts export and of the generic format."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from forum.accounts.models import User
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import Idea, StatusChange, Vote, VoteSource
from forum.triage import csvio
from forum.triage.models import ImportRecord

FIDER = (Path(__file__).parents[1] / "data" / "fider-posts.csv").read_text()
FIDER_STATUS = {"completed": "shipped", "started": "in_progress", "open": "open",
                "duplicate": "declined", "declined": "declined"}


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.fixture
def ada(auth, personas):
    auth.login("ada@example.com")
    return personas["ada"]


def test_fider_import_round_trips_through_export(client, ada, no_drift):
    response = client.post("/admin/import", data={
        "format": "fider", "file": (io.BytesIO(FIDER.encode()), "posts.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert "5 ideas were created" in response.text
    exported = client.get("/staff/export/ideas.csv")
    assert exported.headers["Content-Disposition"].startswith('attachment; filename="ideas-')
    out = {row["title"]: row for row in _rows(exported.text)}
    for original in _rows(FIDER):
        row = out[original["title"]]
        assert row["description"] == original["description"]
        assert row["created_at"] == original["created_at"]
        assert row["created_by"] == original["created_by"]
        assert row["status"] == FIDER_STATUS[original["status"]]
        assert row["responded_at"] == original["responded_at"]
        assert row["response"].startswith(original["response"])
        assert sorted(t for t in row["tags"].split(", ") if t) == sorted(
            t.strip() for t in original["tags"].split(",") if t.strip())
    assert "Duplicate of “Dark mode”" in out["A dark theme please"]["response"]
    # Importing the export back (our ideas file keeps Fider's columns) is a second source,
    # and running either file again creates nothing.
    again = csvio.run_import(FIDER, "fider", None, dry_run=False)
    assert (len(again.created), len(again.unchanged)) == (0, 5)


def test_fider_import_keeps_history_without_notifying(client, ada):
    from forum import signals

    heard = []
    signals.status_changed.connect(lambda sender, **kw: heard.append(sender), weak=False)
    report = csvio.run_import(FIDER, "fider", ada, dry_run=False)
    db.session.commit()
    assert heard == []
    dark = db.session.scalar(db.select(Idea).where(Idea.title == "Dark mode"))
    change = db.session.scalar(db.select(StatusChange).where(StatusChange.idea_id == dark.id))
    assert (change.via, change.to_status.slug, change.created_at.isoformat()) == (
        "import", "shipped", "2024-05-10T16:00:00+00:00")
    assert dark.author.email.endswith("@imported.invalid") and dark.author.password_hash is None
    assert report.votes_not_imported == 11 + 6 + 1  # Fider counts voters it does not export
    assert db.session.scalar(db.select(ImportRecord.source_votes)
                             .where(ImportRecord.idea_id == dark.id)) == 12


def test_dry_run_reports_and_saves_nothing(client, ada):
    before = _count(Idea)
    response = client.post("/admin/import", data={
        "format": "fider", "dry_run": "1", "file": (io.BytesIO(FIDER.encode()), "posts.csv")},
        content_type="multipart/form-data")
    assert "Dry run: nothing was saved" in response.text
    assert "5 ideas would be created" in response.text
    assert _count(Idea) == before and _count(ImportRecord) == 0


GENERIC = """title,body,status,votes,created,tags
Offline mode,Work on the train,planned,anna@example.com; new.person@example.com,2025-01-10,mobile
Slack integration,,,bob@example.com,2025-02-01T08:00:00Z,
x,too short a title,,,,
Calendar sync,,teleported,,,
"""


def test_generic_import_votes_by_email_and_refuses_bad_rows(client, ada, personas, no_drift):
    report = csvio.run_import(GENERIC, "generic", ada, dry_run=False)
    db.session.commit()
    assert len(report.created) == 2 and len(report.errors) == 2
    assert any("line 4" in e and "too short" in e for e in report.errors)
    assert any("line 5" in e and "teleported" in e for e in report.errors)
    offline = db.session.scalar(db.select(Idea).where(Idea.title == "Offline mode"))
    assert offline.status.slug == "planned" and offline.vote_count == 3  # author + 2 voters
    assert offline.created_at.date().isoformat() == "2025-01-10"
    assert [t.slug for t in offline.tags] == ["mobile"]
    newcomer = db.session.scalar(db.select(User).where(User.email == "new.person@example.com"))
    assert newcomer.password_hash is None
    vote = db.session.scalar(db.select(Vote).where(Vote.user_id == newcomer.id))
    assert (vote.source, vote.added_by_id) == (VoteSource.IMPORT, ada.id)
    again = csvio.run_import(GENERIC, "generic", ada, dry_run=False)
    assert len(again.created) == 0 and len(again.unchanged) == 2
    assert offline.vote_count == 3


def test_a_file_without_the_columns_is_refused_clearly(client, ada):
    response = client.post("/admin/import", data={
        "format": "fider", "file": (io.BytesIO(b"name,age\nx,1\n"), "people.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "no column number" in response.text


def test_votes_and_comments_export(client, auth, personas, make_idea):
    idea = make_idea("Formula =1+1", author=personas["anna"])
    ideas.post_comment(idea, personas["pam"], "=HYPERLINK(evil)", internal=True)
    db.session.commit()
    auth.login("pam@example.com")
    votes = _rows(client.get("/staff/export/votes.csv").text)
    assert [(v["email"], v["source"]) for v in votes] == [("anna@example.com", "web")]
    comments = _rows(client.get("/staff/export/comments.csv").text)
    # A spreadsheet must not run what a customer wrote.
    assert comments[0]["body"] == "'=HYPERLINK(evil)" and comments[0]["internal"] == "yes"


def test_cli_import_with_dry_run(runner, personas, tmp_path):
    path = tmp_path / "posts.csv"
    path.write_text(FIDER)
    result = runner.invoke(args=["forum", "import", str(path), "--format", "fider",
                                 "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "5 ideas would be created" in result.output and "nothing was saved" in result.output
    assert _count(Idea) == 0
    result = runner.invoke(args=["forum", "import", str(path), "--format", "fider",
                                 "--by", "ada@example.com"])
    assert "5 ideas were created" in result.output
    result = runner.invoke(args=["forum", "import", str(path), "--format", "fider"])
    assert "0 ideas were created, 5 already imported" in result.output
    assert _count(Idea) == 5


def test_the_import_page_accepts_files_bigger_than_a_form(app, client, ada):
    rows = "".join(f"{n},Idea number {n},{'x' * 19_000},2024-01-01T00:00:00Z,Someone,1,0,open,"
                   ",,,,,\n" for n in range(1, 61))
    body = FIDER.splitlines()[0] + "\n" + rows
    assert len(body) > app.config["MAX_CONTENT_LENGTH"]
    # Encoded here: the test client would spool a body this big to a file it never closes.
    boundary = "forum-test-boundary"
    fields = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
                     for k, v in {"format": "fider", "dry_run": "1"}.items())
    payload = (f'{fields}--{boundary}\r\nContent-Disposition: form-data; name="file"; '
               f'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n{body}\r\n'
               f"--{boundary}--\r\n").encode()
    response = client.post("/admin/import", data=payload,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 200
    assert "60 ideas would be created" in response.text
