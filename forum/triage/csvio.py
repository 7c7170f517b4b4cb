"""CSV export (ideas, votes, comments) and import (Fider's posts export, and a generic file).

Import runs the real services (so counts, subscriptions and history are right) inside the
caller's transaction; a dry run is the same import followed by a rollback, so its report is
exactly what the real run would do. Each row is keyed by (source, external id) in
``import_records``: running the same file twice creates nothing the second time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from forum.accounts import services as accounts
from forum.accounts.models import User
from forum.errors import DomainError, ValidationError
from forum.extensions import db
from forum.ideas import services as ideas
from forum.ideas.models import (
    Board,
    Comment,
    Idea,
    Status,
    StatusChange,
    Tag,
    Vote,
    VoteSource,
)
from forum.text import slugify
from forum.triage.models import ImportRecord
from forum.triage.services import audit

# Fider's posts export, in its order (app/pkg/csv/csv.go), then what Fider does not have.
FIDER_COLUMNS = ["number", "title", "description", "created_at", "created_by", "votes_count",
                 "comments_count", "status", "responded_by", "responded_at", "response",
                 "original_number", "original_title", "tags"]
IDEA_COLUMNS = [*FIDER_COLUMNS, "board", "author_email", "owner_email", "impact", "effort",
                "hidden"]
VOTE_COLUMNS = ["idea_id", "idea_title", "email", "name", "source", "added_by", "voted_at"]
COMMENT_COLUMNS = ["idea_id", "comment_id", "author_email", "author_name", "body", "internal",
                   "hidden", "created_at"]
GENERIC_COLUMNS = ["title", "body", "status", "votes", "created"]  # required: title only
GENERIC_OPTIONAL = ["external_id", "board", "tags", "author_email", "author_name"]
FORMATS = ("fider", "generic")

# Fider's statuses (older exports write the display name, newer ones the slug).
FIDER_STATUSES = {"open": "open", "planned": "planned", "started": "in_progress",
                  "completed": "shipped", "declined": "declined", "duplicate": "declined"}
# A cell starting with one of these is a formula to a spreadsheet: exported with a leading
# apostrophe (OWASP's advice), which the import removes again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLACEHOLDER_DOMAIN = "imported.invalid"  # RFC 2606: never resolves, so never mailed


# --- export --------------------------------------------------------------------------------

def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _uncell(text: str | None) -> str:
    text = (text or "").strip()
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


def _write(columns: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_cell(v) for v in row])
        yield buffer.getvalue()


def export_ideas() -> Iterator[str]:
    """Every idea (merged and hidden ones too: this is the team's backup), Fider's columns
    first so the file imports back into Fider or into another forum."""
    # Plain values, not ORM objects: the rows are generated while the response streams, after
    # the request's session has been closed.
    changer = db.aliased(User)
    last_change: dict[int, tuple[str, object, str]] = {}
    for idea_id, name, at, note in db.session.execute(
        select(StatusChange.idea_id, changer.name, StatusChange.created_at, StatusChange.note)
        .outerjoin(changer, changer.id == StatusChange.changed_by_id)
        .order_by(StatusChange.created_at, StatusChange.id)
    ):
        last_change[idea_id] = (name or "", at, note)

    def rows():
        for idea in db.session.scalars(select(Idea).order_by(Idea.id)):
            change = last_change.get(idea.id)
            merged = idea.merged_into
            yield [idea.id, idea.title, idea.body, idea.created_at, idea.author.name,
                   idea.vote_count, idea.comment_count, idea.status.slug,
                   *(change or ("", "", "")),
                   merged.id if merged else "", merged.title if merged else "",
                   ", ".join(t.name for t in idea.tags), idea.board.slug, idea.author.email,
                   idea.owner.email if idea.owner else "", idea.impact, idea.effort,
                   idea.hidden_at is not None]

    return _write(IDEA_COLUMNS, rows())


def export_votes() -> Iterator[str]:
    adder = db.aliased(User)
    query = (select(Idea.id, Idea.title, User.email, User.name, Vote.source, adder.email,
                    Vote.created_at)
             .join(Vote, Vote.idea_id == Idea.id).join(User, User.id == Vote.user_id)
             .outerjoin(adder, adder.id == Vote.added_by_id).order_by(Idea.id, Vote.id))
    return _write(VOTE_COLUMNS, (list(row) for row in db.session.execute(query)))


def export_comments() -> Iterator[str]:
    query = (select(Comment.idea_id, Comment.id, User.email, User.name, Comment.body,
                    Comment.is_internal, Comment.hidden_at.is_not(None), Comment.created_at)
             .join(User, User.id == Comment.author_id).order_by(Comment.idea_id, Comment.id))
    return _write(COMMENT_COLUMNS, (list(row) for row in db.session.execute(query)))


# --- import --------------------------------------------------------------------------------

@dataclass
class Row:
    line: int
    external_id: str
    title: str
    body: str = ""
    status: str = ""
    note: str = ""
    created_at: datetime | None = None
    responded_at: datetime | None = None
    author_name: str = ""
    author_email: str = ""
    board: str = ""
    tags: list[str] = field(default_factory=list)
    voters: list[str] = field(default_factory=list)
    source_votes: int = 0


@dataclass
class ImportReport:
    source: str
    dry_run: bool
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    accounts_created: int = 0
    votes_added: int = 0
    tags_created: list[str] = field(default_factory=list)
    votes_not_imported: int = 0

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        out = [f"{len(self.created)} ideas {verb} created, {len(self.unchanged)} already "
               f"imported (unchanged), {len(self.errors)} rows refused.",
               f"{self.accounts_created} accounts {verb} created (no password), "
               f"{self.votes_added} votes {verb} added, {len(self.tags_created)} tags {verb} "
               f"created."]
        if self.votes_not_imported:
            out.append(f"{self.votes_not_imported} votes counted in the source have no voter "
                       f"in the file and cannot be counted here (Fider exports counts only).")
        return out


class ImportFileError(ValidationError):
    pass


def _parse_time(value: str, line: int, column: str) -> datetime | None:
    value = _uncell(value)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"line {line}: {column} {value!r} is not a date like "
                              f"2026-11-23 or 2026-11-23T10:00:00Z.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: str) -> int:
    value = _uncell(value)
    return int(value) if value.isdigit() else 0


def _reader(text: str, required: Iterable[str]) -> csv.DictReader:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    missing = [c for c in required if c not in columns]
    if missing:
        raise ImportFileError(f"The file has no column {', '.join(missing)} (it has: "
                              f"{', '.join(sorted(columns)) or 'nothing'}).")
    reader.fieldnames = [c.strip().lower() for c in reader.fieldnames or []]
    return reader


def parse(text: str, fmt: str) -> tuple[list[Row], list[str]]:
    """Rows and the per-line errors of a file in one of FORMATS."""
    if fmt not in FORMATS:
        raise ImportFileError(f"Unknown format {fmt!r}: use fider or generic.")
    rows, errors = [], []
    reader = _reader(text, ["number", "title"] if fmt == "fider" else ["title"])
    for line, record in enumerate(reader, start=2):
        get = {k: _uncell(v) for k, v in record.items() if k}
        try:
            rows.append(_fider_row(line, get) if fmt == "fider" else _generic_row(line, get))
        except ValidationError as error:
            errors.append(error.message)
    return rows, errors


def _fider_row(line: int, get: dict[str, str]) -> Row:
    if not get.get("number"):
        raise ValidationError(f"line {line}: no number.")
    status = get.get("status", "").lower()
    note = get.get("response", "")
    if status == "duplicate" and get.get("original_title"):
        # Merging is the merge service's job; until it is run, the duplicate is closed with a
        # note pointing at the original, which is what Fider showed its voters.
        note = (note + "\n\n" if note else "") + f"Duplicate of “{get['original_title']}”."
    return Row(
        line=line, external_id=get["number"], title=get.get("title", ""),
        body=get.get("description", ""), status=FIDER_STATUSES.get(status, status), note=note,
        created_at=_parse_time(get.get("created_at", ""), line, "created_at"),
        responded_at=_parse_time(get.get("responded_at", ""), line, "responded_at"),
        author_name=get.get("created_by", ""), author_email=get.get("author_email", ""),
        board=get.get("board", ""),
        tags=[t.strip() for t in get.get("tags", "").split(",") if t.strip()],
        source_votes=_int(get.get("votes_count") or get.get("total_votes") or ""),
    )


def _generic_row(line: int, get: dict[str, str]) -> Row:
    title = get.get("title", "")
    created = _parse_time(get.get("created", ""), line, "created")
    key = get.get("external_id") or hashlib.sha1(
        f"{title}|{get.get('created', '')}".encode()).hexdigest()
    return Row(
        line=line, external_id=key[:120], title=title, body=get.get("body", ""),
        status=get.get("status", "").lower(), created_at=created,
        author_name=get.get("author_name", ""), author_email=get.get("author_email", ""),
        board=get.get("board", ""),
        tags=[t.strip() for t in get.get("tags", "").split(",") if t.strip()],
        voters=[v for v in re.split(r"[\s;,]+", get.get("votes", "")) if v],
    )


def import_rows(rows: list[Row], source: str, by: User | None, *, dry_run: bool = False,
                parse_errors: Iterable[str] = ()) -> ImportReport:
    """Create what is new; each row in its own savepoint so one bad row refuses only itself.
    The caller commits, or (dry run) rolls back."""
    report = ImportReport(source=source, dry_run=dry_run, errors=list(parse_errors))
    known = {r.external_id: r.idea_id for r in db.session.scalars(
        select(ImportRecord).where(ImportRecord.source == source))}
    for row in rows:
        if row.external_id in known:
            report.unchanged.append(f"line {row.line}: “{row.title}” is idea #"
                                    f"{known[row.external_id]}")
            continue
        try:
            with db.session.begin_nested():
                idea = _import_one(row, source, by, report)
        except DomainError as error:
            report.errors.append(f"line {row.line}: {error.message}"
                                 + "".join(f" ({f}: {r})" for f, r in error.fields.items()))
            continue
        known[row.external_id] = idea.id
        report.created.append(f"line {row.line}: “{idea.title}”"
                              + ("" if dry_run else f" as idea #{idea.id}"))
        report.votes_not_imported += max(0, row.source_votes - idea.vote_count)
    return report


def _person(email: str, name: str, report: ImportReport) -> User:
    if not email:
        # Fider's export names authors but gives no address: one passwordless account per
        # name, on a domain that can never receive mail.
        email = f"{slugify(name or 'anonymous')[:50] or 'anonymous'}@{PLACEHOLDER_DOMAIN}"
        user = accounts.find_by_email(email)
        if user is None:
            user = User(email=email, name=(name or "Anonymous")[:80], password_hash=None)
            db.session.add(user)
            db.session.flush()
            report.accounts_created += 1
        return user
    user = accounts.find_by_email(email)
    if user is None:
        user = accounts.register(email=email, name=name, password=None)
        report.accounts_created += 1
    return user


def _board(slug: str) -> Board:
    board = db.session.scalar(select(Board).where(Board.slug == slug)) if slug else None
    return board or db.session.scalar(select(Board).order_by(Board.position, Board.id))


def _tag(name: str, report: ImportReport) -> Tag:
    slug = slugify(name)[:40] or "tag"
    tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
    if tag is None:
        tag = Tag(slug=slug, name=name[:40])
        db.session.add(tag)
        report.tags_created.append(name)
    return tag


def _import_one(row: Row, source: str, by: User | None, report: ImportReport) -> Idea:
    status = None
    if row.status:
        status = db.session.scalar(select(Status).where(Status.slug == row.status))
        if status is None:
            raise ValidationError(f"unknown status {row.status!r}.")
    author = _person(row.author_email, row.author_name, report)
    idea = ideas.submit_idea(author, title=row.title, body=row.body, board=_board(row.board))
    if row.created_at:
        idea.created_at = idea.updated_at = idea.last_activity_at = row.created_at
    idea.tags = [_tag(name, report) for name in dict.fromkeys(row.tags)]
    # Flushed now: cast_vote refreshes the idea from the database, which would drop them.
    db.session.flush()
    for email in row.voters:
        voter = _person(email, "", report)
        _target, added = ideas.cast_vote(idea, voter, source=VoteSource.IMPORT, added_by=by)
        report.votes_added += added
    if status is not None and status.id != idea.status_id:
        # Written directly rather than through change_status: an import reports history that
        # already happened, and must not send "your idea shipped" to anyone today.
        at = row.responded_at or row.created_at
        change = StatusChange(idea_id=idea.id, from_status=idea.status, to_status=status,
                              note=row.note, changed_by=by, via="import")
        if at:
            change.created_at = at
        db.session.add(change)
        idea.status = status
        idea.staff_acted_at = at or idea.created_at
    db.session.add(ImportRecord(source=source, external_id=row.external_id, idea_id=idea.id,
                                source_votes=row.source_votes,
                                imported_by_id=by.id if by else None))
    audit(by, "idea.import", idea, after={"source": source, "external_id": row.external_id})
    db.session.flush()
    return idea


def run_import(text: str, fmt: str, by: User | None, *, dry_run: bool) -> ImportReport:
    rows, errors = parse(text, fmt)
    return import_rows(rows, fmt, by, dry_run=dry_run, parse_errors=errors)
