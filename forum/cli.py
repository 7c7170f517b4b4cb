"""``flask forum …`` commands (also the ``forum`` console script). Each command owns its
transaction: one commit at the end, or nothing."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext

from forum.extensions import db


@click.group("forum")
def forum_group() -> None:
    """Feedback forum administration."""


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@forum_group.command("create-user")
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", type=click.Choice(["customer", "staff", "admin"]), default="customer",
              show_default=True)
@click.option("--name", default="", help="Display name (defaults to the email's local part).")
@with_appcontext
def create_user(email: str, password: str, role: str, name: str) -> None:
    """Create an account."""
    from forum.accounts import services
    from forum.accounts.models import Role
    from forum.errors import DomainError

    try:
        user = services.register(email=email, name=name, password=password, role=Role(role))
    except DomainError as error:
        _fail(str(error) + "".join(f" {f}: {r}" for f, r in error.fields.items()))
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@forum_group.command("create-token")
@click.argument("email")
@click.option("--name", default="", help="What the token is for (shown on the account page).")
@with_appcontext
def create_token(email: str, name: str) -> None:
    """Print a new API token for that account (only the token, so scripts can capture it)."""
    from forum.accounts import tokens
    from forum.accounts.services import find_by_email
    from forum.errors import DomainError

    owner = find_by_email(email)
    if owner is None:
        _fail(f"No account {email}.")
    try:
        new = tokens.create_token(owner, name or "Command line")
    except DomainError as error:
        _fail(error.message + "".join(f" {f}: {r}" for f, r in error.fields.items()))
    db.session.commit()
    click.echo(f"Token {new.token.name!r} for {owner.email}; it is shown only once:", err=True)
    click.echo(new.secret)


@forum_group.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the site already has ideas.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the demo data set (idempotent)."""
    from forum import demo

    if if_empty and demo.site_has_ideas():
        click.echo("The site already has ideas; demo data not loaded.")
        return
    created = demo.load()
    db.session.commit()
    click.echo(f"Demo data loaded ({created} new ideas).")


@forum_group.command("check")
@click.option("--fix", is_flag=True, help="Repair what drifted.")
@with_appcontext
def check(fix: bool) -> None:
    """Verify stored counts and the search index against the rows; exit 1 on drift."""
    from forum import checks

    problems = checks.run(fix=fix)
    for problem in problems:
        click.echo(problem)
    if fix:
        db.session.commit()
        click.echo(f"{len(problems)} problem(s) repaired.")
        return
    db.session.rollback()
    if problems:
        click.echo(f"{len(problems)} problem(s) found; run with --fix to repair.")
        sys.exit(1)
    click.echo("No drift: every count and the search index match.")


@forum_group.command("reindex")
@with_appcontext
def reindex() -> None:
    """Rebuild the search index from the database."""
    from forum.search import indexing

    total = indexing.count_indexable()
    with click.progressbar(length=total, label="Indexing ideas") as bar:
        indexed = indexing.reindex(progress=bar.update)
    click.echo(f"{indexed} idea(s) indexed.")


@forum_group.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(path: Path) -> None:
    """Copy the SQLite database to PATH while the site keeps serving."""
    from forum import backup as backups

    if not backups.is_sqlite(db.engine):
        raise click.ClickException(backups.PG_GUIDANCE)
    try:
        backups.backup(db.engine, path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up to {path} ({_summary(path)}).")


@forum_group.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.confirmation_option(prompt="Replace everything in the database with this backup?")
@with_appcontext
def restore(path: Path) -> None:
    """Replace the database's content with the backup at PATH."""
    from forum import backup as backups

    if not backups.is_sqlite(db.engine):
        raise click.ClickException(backups.PG_GUIDANCE)
    db.session.remove()
    try:
        backups.restore(db.engine, path)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    # The index described the data that was just replaced: rebuild it from what is now there.
    from forum.search import indexing

    indexed = indexing.reindex()
    click.echo(f"Restored from {path} ({_summary(path)}); search index rebuilt ({indexed} "
               "ideas). Run `flask forum check` to verify.")


def _summary(path: Path) -> str:
    import sqlite3

    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ideas, votes, people = (connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                                for table in ("ideas", "votes", "users"))
    finally:
        connection.close()
    return f"{ideas} ideas, {votes} votes, {people} people"


@forum_group.command("set-status")
@click.argument("idea_id", type=int)
@click.argument("status")
@click.option("--note", default="", help="Public note shown to voters.")
@click.option("--by", "by_email", default=None, help="Staff email the change is recorded under.")
@click.option("--release-notes", default="",
              help="When shipping: published on the changelog, linked to the idea.")
@with_appcontext
def set_status(idea_id: int, status: str, note: str, by_email: str | None,
               release_notes: str) -> None:
    """Engineering's status update from scripts and CI."""
    from forum.accounts.services import find_by_email
    from forum.errors import DomainError
    from forum.ideas import services
    from forum.ideas.models import Idea

    idea = db.session.get(Idea, idea_id)
    if idea is None:
        _fail(f"No idea {idea_id}.")
    by = None
    if by_email:
        by = find_by_email(by_email)
        if by is None:
            _fail(f"No account {by_email}.")
    try:
        change = services.change_status(idea, services.find_status(status), by, note=note,
                                        via="cli", release_notes=release_notes)
    except DomainError as error:
        _fail(str(error) + "".join(f" {f}: {r}" for f, r in error.fields.items()))
    db.session.commit()
    click.echo(f"Idea {change.idea_id} is now {change.to_status.slug} "
               f"({change.notified_count} notified).")


@forum_group.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--interval", type=float, default=None,
              help="Seconds between polls of the outbox (default MAIL_DELIVER_INTERVAL).")
@with_appcontext
def deliver(once: bool, interval: float | None) -> None:
    """Deliver the mail outbox (and queue daily digests when due) and the webhook deliveries,
    with retries."""
    from flask import current_app

    from forum.notifications import delivery, senders
    from forum.webhooks import delivery as webhooks

    try:
        sender = senders.from_url(current_app.config["MAIL_URL"])
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if not once:
        click.echo(f"Delivering mail through {sender.description} and webhooks; "
                   "Ctrl+C to stop.")
    # Ctrl+C, and SIGTERM (what systemd and container runtimes send), stop the deliverer once
    # the message in hand is done; the rows it claimed and had not started go back at once.
    # The signal only sets a flag: raised as an exception it could land in the middle of a
    # database statement and leave the connection unusable for the give-back. A second signal
    # stops at once (KeyboardInterrupt; the batch is still given back, on a new connection).
    stop = delivery.Stop()
    main_thread = threading.current_thread() is threading.main_thread()
    # A SIGINT ignored from the start (a background job's, nohup's) stays ignored.
    numbers = [number for number in (signal.SIGINT, signal.SIGTERM)
               if main_thread and signal.getsignal(number) is not signal.SIG_IGN]

    def stop_now(signum, frame):
        # Once: further signals must not interrupt the give-back this one starts.
        for number in numbers:
            signal.signal(number, signal.SIG_IGN)
        raise KeyboardInterrupt

    def stop_softly(signum, frame):
        stop.set()
        for number in numbers:
            signal.signal(number, stop_now)

    previous = {number: signal.signal(number, stop_softly) for number in numbers}
    try:
        report = delivery.run(sender, once=once,
                              interval=interval or current_app.config["MAIL_DELIVER_INTERVAL"],
                              echo=click.echo, others=[webhooks.deliver_due], stop=stop)
    except KeyboardInterrupt:
        delivery.drop_interrupted_connection()
        click.echo("Stopped.")
        return
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if stop.is_set():
        click.echo("Stopped.")
    elif once and not report.attempted and not report.others_attempted:
        click.echo("Nothing to deliver.")
    if once and (report.failed or report.uncertain):
        sys.exit(1)


@forum_group.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@click.option("--format", "fmt", type=click.Choice(["fider", "generic"]), required=True,
              help="fider: Fider's posts CSV; generic: title, body, status, votes, created.")
@click.option("--dry-run", is_flag=True, help="Report what would change and save nothing.")
@click.option("--by", "by_email", default=None, help="Staff email the import is recorded under.")
@with_appcontext
def import_ideas(file, fmt: str, dry_run: bool, by_email: str | None) -> None:
    """Import ideas from a CSV file; running it twice creates nothing the second time."""
    from forum.accounts.services import find_by_email
    from forum.errors import DomainError
    from forum.triage import csvio

    by = None
    if by_email:
        by = find_by_email(by_email)
        if by is None or not by.is_staff:
            _fail(f"No team account {by_email}.")
    try:
        report = csvio.run_import(file.read(), fmt, by, dry_run=dry_run)
    except DomainError as error:
        _fail(str(error))
    for line in [*report.lines(), *report.created, *report.unchanged, *report.errors]:
        click.echo(line)
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was saved.")
    else:
        db.session.commit()


def main() -> None:
    """The ``forum`` console script: ``forum forum …`` reads oddly, so the verbs sit at the top."""
    from forum import create_app

    cli = FlaskGroup(create_app=create_app)
    for name, command in forum_group.commands.items():
        cli.add_command(command, name)
    cli()
