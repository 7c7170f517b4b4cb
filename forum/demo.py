"""The demo data set: a believable board for a project-management product.

Loaded through the same services people use, so counts, subscriptions and history are real.
Idempotent: people are keyed by email, ideas by title.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from forum.accounts import services as accounts
from forum.accounts.models import Role, User
from forum.db import utcnow
from forum.extensions import db
from forum.ideas import services
from forum.ideas.models import Board, Comment, Idea, StatusChange, Visibility

DEMO_PASSWORD = "demo-password"
PEOPLE = [
    ("admin@example.com", "Ada Admin", Role.ADMIN),
    ("pm@example.com", "Priya Product", Role.STAFF),
    ("eng@example.com", "Eli Engineer", Role.STAFF),
    ("customer@example.com", "Chris Customer", Role.CUSTOMER),
]
CUSTOMERS = [
    "Marie Dubois", "Luca Rossi", "Sofia Bianchi", "James Carter", "Emma Laurent", "Noah Kim",
    "Olivia Brown", "Giulia Romano", "Hugo Martin", "Aisha Khan", "Tom Becker", "Chloé Petit",
    "Marco Ferrari", "Lena Schmidt", "Ravi Patel", "Sara Conti", "Paul Girard", "Mia Wilson",
    "Kenji Sato", "Inès Moreau", "Daniel Reyes", "Anna Ricci", "Leo Fontaine", "Zoe Clark",
]
BOARDS = [
    ("general", "General", "Ideas for the web app.", Visibility.PUBLIC),
    ("mobile", "Mobile app", "iOS and Android.", Visibility.PUBLIC),
    ("integrations", "Integrations", "Connections to the tools you already use.",
     Visibility.PUBLIC),
    ("beta", "Beta programme", "Early features for members of the beta.", Visibility.MEMBERS),
]
# (board, title, body, status); several are near-duplicates on purpose, as real boards have.
IDEAS = [
    ("general", "Dark mode", "The app is very bright at night. A dark theme that follows the "
     "system setting would help a lot.", "shipped"),
    ("general", "Dark theme for the dashboard", "Please add a dark colour scheme, my eyes hurt "
     "in the evening.", "open"),
    ("general", "Export a project to CSV", "We report to our clients every month and need the "
     "tasks of a project in a spreadsheet.", "planned"),
    ("general", "Export tasks to Excel", "An .xlsx export of all tasks with their assignees and "
     "due dates.", "open"),
    ("general", "Recurring tasks", "Some tasks come back every week (invoices, reports). Let me "
     "set a task to repeat.", "in_progress"),
    ("general", "Repeat a task every month", "Monthly chores should recreate themselves.",
     "open"),
    ("general", "Keyboard shortcuts", "Power users want to create and move tasks without the "
     "mouse. `n` for new, `j`/`k` to move.", "under_review"),
    ("general", "Two-factor authentication", "Our security team requires 2FA with an "
     "authenticator app for every tool we buy.", "planned"),
    ("general", "Single sign-on with SAML", "We use Okta; SAML SSO is mandatory for us.",
     "under_review"),
    ("general", "Gantt chart view", "A timeline of tasks with dependencies.", "open"),
    ("general", "Timeline view with dependencies", "Show tasks on a calendar-like timeline and "
     "draw the dependencies between them.", "open"),
    ("general", "Custom fields on tasks", "We need a 'customer' field and a 'cost' field on "
     "every task.", "in_progress"),
    ("general", "Bulk edit tasks", "Select twenty tasks and change their assignee at once.",
     "open"),
    ("general", "Templates for projects", "Start a new client project from a template with the "
     "usual tasks already there.", "shipped"),
    ("general", "Undo delete", "I deleted a task by mistake and it was gone forever. A trash or "
     "an undo would save me.", "open"),
    ("general", "Restore deleted tasks", "A recycle bin for tasks deleted in the last 30 days.",
     "open"),
    ("general", "Time tracking", "Start and stop a timer on a task, and report hours per "
     "project.", "declined"),
    ("general", "Markdown in task descriptions", "Headings, lists and code blocks in "
     "descriptions.", "shipped"),
    ("general", "Mention teammates in comments", "Type @name to notify someone.", "shipped"),
    ("general", "Email digest of my tasks", "One email each morning with what is due today.",
     "open"),
    ("general", "Daily summary email", "A daily email listing overdue and upcoming tasks.",
     "open"),
    ("general", "Archive finished projects", "Hide old projects without deleting them.",
     "planned"),
    ("general", "Workload view per person", "See who is overloaded this week.", "open"),
    ("general", "Print a project", "A clean printable view for meetings.", "open"),
    ("general", "Better search with filters", "Search by assignee, tag and date range.",
     "under_review"),
    ("mobile", "Offline mode on mobile", "I work on trains with no signal; let me read and "
     "edit tasks offline and sync later.", "planned"),
    ("mobile", "Work offline in the Android app", "The app is useless without network in the "
     "metro.", "open"),
    ("mobile", "Home screen widget", "A widget with today's tasks.", "open"),
    ("mobile", "Face ID to unlock the app", "Protect the app with biometrics.", "in_progress"),
    ("mobile", "Push notifications for mentions", "Tell me on my phone when someone mentions "
     "me.", "shipped"),
    ("mobile", "Tablet layout for iPad", "Use the big screen: two columns.", "open"),
    ("mobile", "Scan documents into a task", "Take a photo of a receipt and attach it.",
     "open"),
    ("integrations", "Slack integration", "Post task updates to a Slack channel.", "shipped"),
    ("integrations", "Microsoft Teams notifications", "Same as Slack, for Teams.", "planned"),
    ("integrations", "Google Calendar sync", "Due dates in my Google Calendar, both ways.",
     "in_progress"),
    ("integrations", "Sync due dates with Outlook calendar", "Outlook users need calendar "
     "sync too.", "open"),
    ("integrations", "Zapier app", "Trigger Zaps when a task is completed.", "open"),
    ("integrations", "GitHub issues sync", "Link tasks to GitHub issues and close them "
     "together.", "under_review"),
    ("integrations", "Public REST API", "Read and write tasks from our own scripts.",
     "shipped"),
    ("integrations", "Webhooks for task events", "Call our URL when a task changes.", "open"),
    ("integrations", "Import from Trello", "Bring our boards over with their cards and "
     "labels.", "open"),
    ("integrations", "Jira import", "Move our backlog from Jira.", "open"),
    ("beta", "AI summary of long comment threads", "Summarise 80 comments into five lines.",
     "under_review"),
    ("beta", "Automations: when X then Y", "Rules like 'when a task is done, notify the "
     "client'.", "open"),
]
COMMENTS = [
    "We need this too, it would save our team hours every week.",
    "+1, this is the one thing keeping us on spreadsheets.",
    "Any news on this? Our contract renewal depends on it.",
    "A workaround for now: we use a saved filter, but it is clumsy.",
    "Please make it work on mobile as well.",
    "This would be great for our agency.",
    "Same request from three of our clients this month.",
]
# Shipped demo ideas publish these on the changelog.
RELEASE_NOTES = {
    "Dark mode": "The app now follows your system's **dark** setting, or choose a theme under "
                 "*Settings → Appearance*.",
    "Templates for projects": "Save any project as a template and start new client projects "
                              "from it, tasks and all.",
    "Markdown in task descriptions": "Headings, lists, links and code blocks now render in "
                                     "task descriptions.",
    "Mention teammates in comments": "Type `@` and a name to notify a teammate.",
    "Push notifications for mentions": "The mobile apps tell you when someone mentions you.",
    "Slack integration": "Connect a Slack channel under *Integrations* to post task updates.",
    "Public REST API": "Read and write tasks from your own scripts: see the API documentation.",
}
NOTES = {
    "declined": "Thanks for all the votes. Time tracking is better served by dedicated tools; "
                "we integrate with them instead.",
}


def site_has_ideas() -> bool:
    return db.session.scalar(select(Idea.id).limit(1)) is not None


def load() -> int:
    rng = random.Random(20261123)
    people = _people()
    staff = people["pm@example.com"]
    customers = [p for p in people.values() if p.role == Role.CUSTOMER]
    boards = _boards()
    created = 0
    start = utcnow() - timedelta(days=120)
    for number, (board_slug, title, body, status) in enumerate(IDEAS):
        if db.session.scalar(select(Idea).where(Idea.title == title)) is not None:
            continue
        author = customers[number % len(customers)]
        idea = services.submit_idea(author, title=title, body=body, board=boards[board_slug])
        voters = rng.sample(customers, k=min(len(customers) - 1, int(rng.paretovariate(1.3) * 1.5)))
        for voter in voters:
            services.cast_vote(idea, voter)
        for text in rng.sample(COMMENTS, k=rng.randint(0, 3)):
            services.post_comment(idea, rng.choice(customers), text)
        if status != "open":
            services.change_status(idea, services.find_status(status), staff,
                                   note=NOTES.get(status, ""), via="web",
                                   release_notes=RELEASE_NOTES.get(title, ""))
        _spread_in_time(idea, start + timedelta(days=number * 2.5))
        created += 1
    db.session.flush()
    return created


def _spread_in_time(idea: Idea, posted: datetime) -> None:
    """Spread the history over four months so that "new" and "trending" differ from "top",
    and comments and status changes follow the idea a few days apart, as on a real board.
    Done last: voting re-reads the idea under a lock, which drops unflushed changes."""
    db.session.flush()
    later = [*db.session.scalars(select(Comment).where(Comment.idea_id == idea.id)),
             *db.session.scalars(select(StatusChange).where(StatusChange.idea_id == idea.id))]
    idea.created_at = idea.last_activity_at = posted
    for step, row in enumerate(later, start=1):
        row.created_at = min(posted + timedelta(days=2 * step), utcnow())
        idea.last_activity_at = max(idea.last_activity_at, row.created_at)
    db.session.flush()


def _people() -> dict[str, User]:
    people = {}
    specs = PEOPLE + [(f"{n.lower().replace(' ', '.')}@example.com".replace("é", "e")
                       .replace("è", "e").replace("ï", "i"), n, Role.CUSTOMER) for n in CUSTOMERS]
    for email, name, role in specs:
        user = accounts.find_by_email(email)
        if user is None:
            # Only the four named accounts can sign in; the crowd has no password to hash.
            password = DEMO_PASSWORD if (email, name, role) in PEOPLE else None
            user = accounts.register(email=email, name=name, password=password, role=role)
        people[email] = user
    return people


def _boards() -> dict[str, Board]:
    boards = {}
    for position, (slug, name, description, visibility) in enumerate(BOARDS):
        board = db.session.scalar(select(Board).where(Board.slug == slug))
        if board is None:
            board = Board(slug=slug, name=name, description=description, visibility=visibility,
                          position=position)
            db.session.add(board)
        boards[slug] = board
    db.session.flush()
    return boards
