"""Words for believable ideas and comments. Titles are combinations of these lists, chosen
through a permutation of the whole combination space, so every generated title is different."""

from __future__ import annotations

import random

VERBS = [
    "Add", "Allow", "Support", "Improve", "Speed up", "Simplify", "Show", "Let us customise",
    "Fix", "Redesign", "Automate", "Offer", "Enable", "Rethink", "Extend",
]
FEATURES = [
    "dark mode", "bulk editing", "CSV export", "Excel export", "PDF export", "recurring tasks",
    "keyboard shortcuts", "two-factor authentication", "SAML single sign-on", "a Gantt chart",
    "a timeline view", "custom fields", "project templates", "undo for deletions",
    "a trash bin", "time tracking", "Markdown formatting", "@mentions", "an email digest",
    "a daily summary", "project archiving", "a workload view", "printing", "saved filters",
    "full-text search", "tags", "colour labels", "due date reminders", "task dependencies",
    "subtasks", "checklists", "file attachments", "image previews", "inline comments",
    "a calendar view", "a kanban board", "swimlanes", "WIP limits", "sprint planning",
    "story points", "burndown charts", "velocity reports", "guest access", "client portals",
    "read-only links", "audit logs", "role-based permissions", "team spaces", "private tasks",
    "task priorities", "estimates", "budgets", "invoicing", "expense tracking",
    "offline mode", "push notifications", "a home screen widget", "biometric unlock",
    "a tablet layout", "document scanning", "voice notes", "location reminders",
    "Slack notifications", "Microsoft Teams notifications", "Google Calendar sync",
    "Outlook sync", "a Zapier app", "GitHub issue links", "GitLab merge request links",
    "a public REST API", "webhooks", "Trello import", "Jira import", "Asana import",
    "SCIM provisioning", "IP allow-lists", "data residency in the EU", "custom domains",
    "white labelling", "a right-to-left layout", "screen reader support",
    "high-contrast themes", "larger fonts", "a compact density", "drag and drop",
    "multi-select", "copy and paste of tasks", "duplicate detection", "merge of projects",
    "task templates", "forms for requests", "automations", "approval steps",
    "SLA timers", "an activity feed", "weekly reports", "dashboards", "charts",
    "goal tracking", "OKRs", "a roadmap view", "portfolio views", "resource planning",
    "holiday calendars", "time zones per user", "multiple assignees", "watchers",
    "read receipts", "emoji reactions", "threaded replies", "pinned comments",
    "AI summaries", "smart suggestions", "natural-language dates", "a command palette",
    "an onboarding checklist", "sample projects", "keyboard navigation", "a desktop app",
    "a browser extension", "email-to-task", "two-way email replies",
]
PLACES = [
    "in the task list", "on the dashboard", "in the mobile app", "on the Android app",
    "on the iPhone app", "in project settings", "in the admin console", "in reports",
    "on the board view", "in the calendar", "in notifications", "in the search results",
    "for archived projects", "for guests", "for client portals", "in the API",
    "in the sidebar", "on the home page", "in the inbox", "in the timeline",
    "in exports", "in the weekly email", "for team spaces", "in templates",
    "in the billing page", "for enterprise workspaces", "for free plans", "in comments",
    "in the desktop app", "on tablets", "in the browser extension", "in the task detail",
    "on shared links", "in the roadmap", "in dashboards", "for recurring tasks",
    "in the Slack app", "in the Teams app", "in automations", "on the profile page",
]
QUALIFIERS = [
    "", "for large teams", "on slow connections", "for accessibility", "for agencies",
    "for our auditors", "for remote teams", "by default", "per project", "per workspace",
    "without a page reload", "in one click", "for power users", "for new members",
    "on small screens", "for compliance", "across workspaces", "like other tools do",
    "with keyboard only", "with an undo",
]
REASONS = [
    "We lose hours every week working around this.",
    "Our clients keep asking for it in every review meeting.",
    "It is the main reason two of our teams still use spreadsheets.",
    "Competitors already have it and our sales team hears about it weekly.",
    "Without it we cannot roll the product out to the whole company.",
    "Our security team made it a condition for renewing the contract.",
    "New colleagues get confused and ask us how to do this.",
    "On a busy day this would save every person a few minutes.",
    "It would make the product usable for the people who only check in once a week.",
    "Right now we copy things by hand, and mistakes slip through.",
]
DETAILS = [
    "Ideally it would remember the last choice.",
    "A setting to turn it off per user would keep everybody happy.",
    "It should also work for tasks created through the API.",
    "Please keep it simple: one button is enough for most of us.",
    "Admins should be able to make it the default for everyone.",
    "An export of the result would be a bonus.",
    "It matters most at the end of the month when reports are due.",
    "We have about 300 people who would use it every day.",
    "Something like what `git` does with history would be perfect.",
    "**Important:** it has to respect the existing permissions.",
]
COMMENT_LINES = [
    "We need this too, it would save our team hours every week.",
    "+1, this is the one thing keeping us on spreadsheets.",
    "Any news on this? Our contract renewal depends on it.",
    "A workaround for now: we use a saved filter, but it is clumsy.",
    "Please make it work on mobile as well.",
    "This would be great for our agency.",
    "Same request from three of our clients this month.",
    "Thanks for considering it! Happy to test a beta.",
    "Could it also cover the case where a task has no due date?",
    "We switched from another tool because it was promised here.",
    "Is there an ETA? Even a rough quarter would help our planning.",
    "Agreed with everyone above, with one detail: keep the old behaviour as an option.",
    "I wrote a small script for this in the meantime, happy to share it.",
    "It should respect our **single sign-on** groups.",
    "Our accessibility consultant flagged this as well.",
    "Still needed in 2026.",
]
STAFF_LINES = [
    "Thanks for the details. We are looking into how this fits with the next release.",
    "Linked to the planning document for next quarter.",
    "Customer call: they would pay for this as an add-on.",
    "Engineering estimate: about two sprints.",
]
FIRST_NAMES = [
    "Marie", "Luca", "Sofia", "James", "Emma", "Noah", "Olivia", "Giulia", "Hugo", "Aisha",
    "Tom", "Chloé", "Marco", "Lena", "Ravi", "Sara", "Paul", "Mia", "Kenji", "Inès", "Daniel",
    "Anna", "Leo", "Zoe", "Fatima", "Oscar", "Ingrid", "Pedro", "Yuki", "Amara", "Elias",
    "Nina", "Jonas", "Clara", "Omar", "Eva", "Lars", "Rosa", "Igor", "Maya",
]
LAST_NAMES = [
    "Dubois", "Rossi", "Bianchi", "Carter", "Laurent", "Kim", "Brown", "Romano", "Martin",
    "Khan", "Becker", "Petit", "Ferrari", "Schmidt", "Patel", "Conti", "Girard", "Wilson",
    "Sato", "Moreau", "Reyes", "Ricci", "Fontaine", "Clark", "Haddad", "Novak", "Larsen",
    "Silva", "Tanaka", "Okafor", "Berg", "Costa", "Weber", "Garcia", "Nowak", "Jensen",
]

_TITLE_SPACE = len(VERBS) * len(FEATURES) * len(PLACES) * len(QUALIFIERS)


def title_capacity() -> int:
    return _TITLE_SPACE


def _stride(seed: int) -> int:
    """A multiplier coprime with the space, so ``i * stride mod space`` is a permutation."""
    from math import gcd

    stride = 7_919 + 2 * seed
    while gcd(stride, _TITLE_SPACE) != 1:
        stride += 1
    return stride


def title_parts(n: int, seed: int) -> tuple[str, str, str, str]:
    """The n-th title of a seeded permutation of every combination (distinct for distinct n)."""
    index = (n * _stride(seed) + seed) % _TITLE_SPACE
    index, v = divmod(index, len(VERBS))
    index, q = divmod(index, len(QUALIFIERS))
    f, p = divmod(index, len(PLACES))
    return VERBS[v], FEATURES[f], PLACES[p], QUALIFIERS[q]


def title(parts: tuple[str, str, str, str]) -> str:
    verb, feature, place, qualifier = parts
    return " ".join(word for word in (verb, feature, place, qualifier) if word)


def body(parts: tuple[str, str, str, str], rng: random.Random) -> str:
    _verb, feature, place, qualifier = parts
    ending = f" {qualifier}." if qualifier else "."
    opening = f"It would help a lot to have {feature} {place}{ending}"
    sentences = [opening, *rng.sample(REASONS, rng.randint(1, 2))]
    if rng.random() < 0.6:
        sentences.append(rng.choice(DETAILS))
    text = " ".join(sentences)
    if rng.random() < 0.2:
        text += f"\n\n- today: we do it by hand\n- with {feature}: one step"
    return text


def comment(rng: random.Random, staff: bool = False) -> str:
    lines = STAFF_LINES if staff else COMMENT_LINES
    return " ".join(rng.sample(lines, rng.randint(1, 2)))


def person_name(n: int) -> str:
    first = FIRST_NAMES[n % len(FIRST_NAMES)]
    last = LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last}"
