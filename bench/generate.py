"""A realistic data set for the benchmarks, written straight through SQLAlchemy Core.

    python -m bench.generate --ideas 100000 --votes 1000000 --comments 200000 --out bench/data/big

DIR becomes an instance folder: ``DIR/forum.db`` is created by the product's own migrations,
then filled in big transactions of ``executemany`` inserts. Votes per idea follow a Zipf-like
law, titles are distinct combinations of a product vocabulary, there are several boards (one for
members, one for staff), every status, hidden ideas, internal notes and merged ideas. The stored
``vote_count``, ``comment_count`` and ``trending_score`` are computed exactly as
``flask forum check`` recomputes them, so a fresh set reports zero drift.

``DIR/bench.json`` records what the benchmark needs: the people who sign in, an idea with 20
comments, ideas open for voting.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import Engine, create_engine, select
from werkzeug.security import generate_password_hash

from bench import vocabulary as words
from forum.accounts.models import User
from forum.ideas import ranking
from forum.ideas.models import (
    Board,
    Comment,
    Idea,
    Status,
    StatusChange,
    Subscription,
    Tag,
    Vote,
    idea_tags,
)

BENCH_PASSWORD = "bench-password"
GENERATOR_VERSION = 3
BATCH = 20_000
STAFF = 6  # users 1..6: one admin, five staff
ZIPF_EXPONENT = 1.0
# (slug, name, visibility, share of the ideas)
BOARDS = [
    ("mobile", "Mobile app", "public", 0.20),
    ("integrations", "Integrations", "public", 0.18),
    ("beta", "Beta programme", "members", 0.07),
    ("internal", "Internal requests", "staff", 0.03),
]
GENERAL_SHARE = 0.52
STATUS_SHARES = {"open": 0.70, "under_review": 0.10, "planned": 0.07, "in_progress": 0.05,
                 "shipped": 0.05, "declined": 0.03}
MERGED_SHARE = 0.02
HIDDEN_SHARE = 0.003
INTERNAL_COMMENT_SHARE = 0.02
HIDDEN_COMMENT_SHARE = 0.005
TAGS = ["ux", "performance", "security", "reporting", "mobile", "api", "billing",
        "accessibility", "admin", "notifications", "search", "export"]

@dataclass
class Plan:
    """Everything decided before rows are written (small: one entry per idea)."""

    now: datetime
    users: int
    board_ids: list[int]
    board_weights: list[float]
    public_boards: set[int]
    status_ids: dict[str, int]
    seed: int
    created: list[datetime] = field(default_factory=list)
    merged_into: dict[int, int] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    votes_for: list[int] = field(default_factory=list)
    comments_for: list[int] = field(default_factory=list)


def migrate(out: Path) -> str:
    """Create DIR/forum.db with the product's migrations; return its URL."""
    from flask_migrate import upgrade

    from forum import create_app
    from forum.extensions import db

    url = f"sqlite:///{(out / 'forum.db').resolve()}"
    app = create_app({"INSTANCE_PATH": str(out.resolve()), "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _spread(total: int, count: int, minimum: int, cap: int, rng: random.Random,
            exponent: float = ZIPF_EXPONENT) -> list[int]:
    """``count`` integers, Zipf-like over a random popularity order, summing to about ``total``,
    each in [minimum, cap]."""
    order = list(range(count))
    rng.shuffle(order)
    weights = [1.0 / (rank + 1) ** exponent for rank in range(count)]
    scale = max(0, total - minimum * count) / sum(weights)
    result = [0] * count
    for rank, index in enumerate(order):
        expected = weights[rank] * scale
        whole = int(expected)
        extra = 1 if rng.random() < expected - whole else 0
        result[index] = min(cap, minimum + whole + extra)
    return result


def plan(rng: random.Random, *, ideas: int, votes: int, comments: int, users: int,
         now: datetime, board_ids: list[int], public: set[int], status_ids: dict[str, int],
         seed: int) -> Plan:
    board_weights = [GENERAL_SHARE, *(share for *_rest, share in BOARDS)]
    p = Plan(now=now, users=users, board_ids=board_ids, board_weights=board_weights,
             public_boards=public, status_ids=status_ids, seed=seed)
    start = now - timedelta(days=730)
    span = (now - start).total_seconds() - 3600
    p.created = sorted(start + timedelta(seconds=rng.random() * span) for _ in range(ideas))
    p.votes_for = _spread(votes, ideas, 1, users, rng)  # the author's own vote is always there
    # Discussion is spread wider than votes: the busiest idea has thousands, not tens of them.
    p.comments_for = _spread(comments, ideas, 0, 10_000, rng, exponent=0.8)
    return p


def _rand_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = max(0.0, (end - start).total_seconds())
    return start + timedelta(microseconds=int(rng.random() * seconds * 1e6))


class Writer:
    """Buffers rows per table and writes them in executemany batches, in one transaction."""

    # Generation only: no journal, no fsync, a big page cache; WAL is restored by close().
    PRAGMAS = ("journal_mode=OFF", "synchronous=OFF", "cache_size=-262144", "temp_store=MEMORY",
               "locking_mode=EXCLUSIVE", "foreign_keys=OFF")

    def __init__(self, engine: Engine):
        self.connection = engine.connect()
        self.raw = self.connection.connection.driver_connection
        for pragma in self.PRAGMAS:
            self.raw.execute(f"PRAGMA {pragma}")
        self.buffers: dict = {}
        self.counts: dict[str, int] = {}
        self.connection.begin()

    def add(self, table, row: dict) -> None:
        buffer = self.buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= BATCH:
            self.flush(table)

    def flush(self, table=None) -> None:
        for tbl in [table] if table is not None else list(self.buffers):
            rows = self.buffers.get(tbl)
            if rows:
                self.connection.execute(tbl.insert(), rows)
                self.counts[tbl.name] = self.counts.get(tbl.name, 0) + len(rows)
                rows.clear()

    def close(self) -> None:
        self.flush()
        self.connection.commit()
        for pragma in ("locking_mode=NORMAL", "journal_mode=WAL", "synchronous=NORMAL"):
            self.raw.execute(f"PRAGMA {pragma}")
        self.connection.close()


def _insert_people(writer: Writer, users: int, now: datetime, rng: random.Random) -> None:
    password = generate_password_hash(BENCH_PASSWORD)
    for n in range(1, users + 1):
        role = "admin" if n == 1 else "staff" if n <= STAFF else "customer"
        writer.add(User.__table__, {
            "id": n, "email": f"user{n}@example.com", "name": words.person_name(n),
            "password_hash": password, "role": role, "locale": None,
            "notify_frequency": rng.choice(["immediately", "immediately", "daily", "never"]),
            "is_banned": False, "created_at": now - timedelta(days=800 - n % 60),
            "last_seen_at": None,
        })
    writer.flush()


def _groups(p: Plan, rng: random.Random, board_of: list[int]) -> Iterator[tuple[int, list[int]]]:
    """Canonical ideas with their merged duplicates. A duplicate is merged into an earlier,
    canonical idea of the same board, so chains never form."""
    canonical_by_board: dict[int, list[int]] = {}
    for idea_id in range(1, len(p.created) + 1):
        board = board_of[idea_id - 1]
        pool = canonical_by_board.setdefault(board, [])
        if pool and rng.random() < MERGED_SHARE:
            target = rng.choice(pool)
            p.merged_into[idea_id] = target
            p.children.setdefault(target, []).append(idea_id)
        else:
            pool.append(idea_id)
    for idea_id in range(1, len(p.created) + 1):
        if idea_id not in p.merged_into:
            yield idea_id, [idea_id, *p.children.get(idea_id, [])]


def generate(out: Path, *, ideas: int, votes: int, comments: int, users: int | None = None,
             seed: int = 1) -> dict:
    if (out / "forum.db").exists():
        raise click.ClickException(f"{out / 'forum.db'} exists; remove it or choose another --out")
    if ideas > words.title_capacity():
        raise click.ClickException(f"at most {words.title_capacity()} distinct titles")
    users = users or max(2_000, ideas)
    rng = random.Random(seed)
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    url = migrate(out)
    engine = create_engine(url)
    now = datetime.now(UTC).replace(microsecond=0)

    with engine.connect() as connection:
        if connection.scalar(select(Idea.id).limit(1)) is not None:
            raise click.ClickException("the database already has ideas")
        statuses = {s.slug: s.id for s in connection.execute(select(Status.slug, Status.id))}
        general = connection.scalar(select(Board.id).where(Board.slug == "general"))
    writer = Writer(engine)
    board_ids, public = [general], {general}
    for position, (slug, name, visibility, _share) in enumerate(BOARDS, start=1):
        board_id = general + position
        writer.add(Board.__table__, {"id": board_id, "slug": slug, "name": name,
                                     "description": f"Ideas about the {name.lower()}.",
                                     "visibility": visibility, "position": position,
                                     "created_at": now - timedelta(days=900)})
        board_ids.append(board_id)
        if visibility == "public":
            public.add(board_id)
    for n, slug in enumerate(TAGS, start=1):
        writer.add(Tag.__table__, {"id": n, "slug": slug, "name": slug.capitalize(),
                                   "color": "#64748b"})
    writer.flush()
    _insert_people(writer, users, now, rng)

    p = plan(rng, ideas=ideas, votes=votes, comments=comments, users=users, now=now,
             board_ids=board_ids, public=public, status_ids=statuses, seed=seed)
    board_of = rng.choices(board_ids, weights=p.board_weights, k=ideas)
    status_names = list(STATUS_SHARES)
    status_of = rng.choices(status_names, weights=list(STATUS_SHARES.values()), k=ideas)
    groups = list(_groups(p, rng, board_of))

    # The idea page scenario: a popular, visible, open idea on a public board with 20 comments.
    showcase = next(g for g, members in groups if len(members) == 1 and board_of[g - 1] == general
                    and status_of[g - 1] == "open" and p.votes_for[g - 1] > 20)
    p.comments_for[showcase - 1] = 20
    hidden = {i for i in range(1, ideas + 1) if rng.random() < HIDDEN_SHARE and i != showcase}

    with click.progressbar(length=ideas, label="ideas, votes, comments") as bar:
        for group_id, members in groups:
            _write_group(writer, p, rng, group_id, members, board_of, status_of, hidden,
                         internal_allowed=group_id != showcase)
            bar.update(len(members))
    writer.close()
    engine.dispose()
    reindex_seconds = build_search_index(out)

    vote_ids = [g for g, members in groups if board_of[g - 1] in public and g not in hidden
                and status_of[g - 1] in ("open", "under_review", "planned", "in_progress")]
    meta = {
        "generator_version": GENERATOR_VERSION, "seed": seed, "generated_at": now.isoformat(),
        "ideas": ideas, "votes": writer.counts.get("votes", 0),
        "comments": writer.counts.get("comments", 0), "users": users,
        "subscriptions": writer.counts.get("subscriptions", 0),
        "merged": len(p.merged_into), "hidden": len(hidden), "password": BENCH_PASSWORD,
        "customer_email": f"user{STAFF + 1}@example.com", "staff_email": "user2@example.com",
        "idea_with_20_comments": showcase,
        "open_ideas": rng.sample(vote_ids, min(5_000, len(vote_ids))),
        "seconds": round(time.perf_counter() - started, 1),
        # The same code as `flask forum reindex`, timed alone: the reindex figure of the run.
        "reindex_seconds": round(reindex_seconds, 1),
    }
    (out / "bench.json").write_text(json.dumps(meta, indent=1))
    return meta


def build_search_index(out: Path) -> float:
    """Index every idea of the set as `flask forum reindex` does; returns the seconds it took."""
    from forum import create_app
    from forum.search import indexing, service

    app = create_app({"INSTANCE_PATH": str(out.resolve()),
                      "DATABASE_URL": f"sqlite:///{(out / 'forum.db').resolve()}"})
    with app.app_context():
        total = indexing.count_indexable()
        with click.progressbar(length=total, label="search index") as bar:
            started = time.perf_counter()
            indexing.reindex(bar.update)
            seconds = time.perf_counter() - started
        service.close(app)
    return seconds


def _write_group(writer: Writer, p: Plan, rng: random.Random, group_id: int,
                 members: list[int], board_of: list[int], status_of: list[str],
                 hidden: set[int], *, internal_allowed: bool) -> None:
    group_voters: set[int] = set()
    group_times: list[datetime] = []
    for idea_id in members:
        created = p.created[idea_id - 1]
        author = rng.randint(STAFF + 1, p.users)
        merged_at = None
        if idea_id != group_id:
            merged_at = _rand_time(rng, max(created, p.created[group_id - 1]), p.now)
        until = merged_at or p.now
        # Votes: the author's at creation, then distinct others until now (or the merge).
        voters = {author}
        wanted = p.votes_for[idea_id - 1]
        if wanted > 1:
            for voter in rng.sample(range(1, p.users + 1), min(p.users, wanted)):
                if len(voters) == wanted:
                    break
                voters.add(voter)
        times = []
        subscriptions: dict[int, str] = {author: "all"}
        for voter in voters:
            at = created if voter == author else _rand_time(rng, created, until)
            times.append(at)
            support = rng.random() < 0.01
            writer.add(Vote.__table__, {
                "idea_id": idea_id, "user_id": voter,
                "source": "support" if support else "api" if rng.random() < 0.02 else "web",
                "added_by_id": 2 if support else None, "created_at": at,
            })
            subscriptions.setdefault(voter, "status")
        # Comments: public ones count; internal notes (staff only) and hidden ones do not.
        comment_count, last_comment = 0, created
        for _ in range(p.comments_for[idea_id - 1]):
            internal = internal_allowed and idea_id == group_id and \
                rng.random() < INTERNAL_COMMENT_SHARE
            commenter = rng.randint(2, STAFF) if internal else rng.randint(1, p.users)
            at = _rand_time(rng, created, until)
            comment_hidden = internal_allowed and rng.random() < HIDDEN_COMMENT_SHARE
            writer.add(Comment.__table__, {
                "idea_id": idea_id, "author_id": commenter,
                "body": words.comment(rng, staff=internal or commenter <= STAFF),
                "is_internal": internal,
                "hidden_at": at if comment_hidden else None,
                "created_at": at, "updated_at": at,
            })
            # As forum.ideas.services.readable_comment: hidden comments are not counted either.
            if not internal and not comment_hidden:
                comment_count += 1
                last_comment = max(last_comment, at)
                subscriptions[commenter] = "all"
        for user_id, level in subscriptions.items():
            writer.add(Subscription.__table__, {"idea_id": idea_id, "user_id": user_id,
                                                "level": level, "created_at": created})
        group_voters |= voters
        group_times += times
        own_score = ranking.trending_score(sorted(times))
        status = status_of[idea_id - 1]
        staff_acted = None
        if status != "open":
            staff_acted = _rand_time(rng, created, until)
            writer.add(StatusChange.__table__, {
                "idea_id": idea_id, "from_status_id": p.status_ids["open"],
                "to_status_id": p.status_ids[status],
                "note": "Thanks for the votes: this is not for us." if status == "declined"
                else "", "changed_by_id": rng.randint(2, STAFF), "via": "web",
                "notified_count": len(voters), "created_at": staff_acted,
            })
        parts = words.title_parts(idea_id, p.seed)
        row = {
            "id": idea_id, "board_id": board_of[idea_id - 1], "author_id": author,
            "status_id": p.status_ids[status], "title": words.title(parts),
            "body": words.body(parts, rng), "vote_count": len(voters),
            "comment_count": comment_count, "trending_score": own_score,
            "last_activity_at": max([created, last_comment, *times]),
            "merged_into_id": group_id if idea_id != group_id else None,
            "merged_at": merged_at, "merged_by_id": 2 if merged_at else None,
            "owner_id": None, "impact": None, "effort": None,
            "staff_acted_at": merged_at or staff_acted,
            "hidden_at": _rand_time(rng, created, p.now) if idea_id in hidden else None,
            "created_at": created, "updated_at": created,
        }
        if idea_id == group_id:
            canonical_row = row
        else:
            writer.add(Idea.__table__, row)
        if rng.random() < 0.3:
            for tag in rng.sample(range(1, len(TAGS) + 1), rng.randint(1, 2)):
                writer.add(idea_tags, {"idea_id": idea_id, "tag_id": tag})
    # The canonical idea counts distinct people across its group; trending weighs every vote row.
    canonical_row["vote_count"] = len(group_voters)
    canonical_row["trending_score"] = ranking.trending_score(sorted(group_times))
    canonical_row["last_activity_at"] = max(canonical_row["last_activity_at"], *group_times)
    writer.add(Idea.__table__, canonical_row)


@click.command()
@click.option("--ideas", type=int, default=100_000, show_default=True)
@click.option("--votes", type=int, default=1_000_000, show_default=True)
@click.option("--comments", type=int, default=200_000, show_default=True)
@click.option("--users", type=int, default=None, help="Defaults to max(2000, ideas).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Instance folder to create (DIR/forum.db, DIR/bench.json).")
def main(ideas: int, votes: int, comments: int, users: int | None, seed: int, out: Path) -> None:
    """Generate a benchmark data set into an instance folder."""
    meta = generate(out, ideas=ideas, votes=votes, comments=comments, users=users, seed=seed)
    click.echo(f"{meta['ideas']} ideas ({meta['merged']} merged, {meta['hidden']} hidden), "
               f"{meta['votes']} votes, {meta['comments']} comments, {meta['users']} users, "
               f"{meta['subscriptions']} subscriptions in {meta['seconds']} s -> {out}")


if __name__ == "__main__":
    main()
