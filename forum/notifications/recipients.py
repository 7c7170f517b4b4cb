"""Who hears about a change, computed set-wise in SQL (never a loop over voters).

- Voting follows an idea for status changes; posting or commenting follows it for everything.
- A person's chosen "none" on the canonical idea silences them; a "none" on an idea merged into
  it silences them too, unless they follow the canonical idea itself.
- The global frequency decides how: immediately (an email now), daily (in the digest), never
  (in-app only). Shipped news is mailed at once to daily readers too.
- Every person is counted once, however many ideas of the group they voted on or follow.
- Nobody hears of an idea they can no longer see: once it is hidden, its author banned or
  its board (or the board of the idea it is merged into) made team-only, only the team is
  told. Delivery checks again at send time (forum.notifications.emails.withheld), because
  that can change between the outbox row and the email.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, and_, func, or_, select, union

from forum.accounts.models import TEAM_ROLES, NotifyFrequency, User
from forum.extensions import db
from forum.ideas import workflow
from forum.ideas.models import Idea, Subscription, SubscriptionLevel, Vote
from forum.ideas.services import canonical, group_ids


@dataclass(frozen=True)
class Audience:
    """The people a change concerns, as SQL the outbox can insert from."""

    interested: Select  # user ids who voted or follow at the right level (before opt-outs)
    voters: Select      # user ids who voted on the idea or an idea merged into it
    silenced: Select    # user ids who chose "none"
    exclude_id: int | None
    team_only: bool = False  # customers may no longer see the idea

    def conditions(self) -> list:
        """On ``users``: interested, not silenced, not banned, not the actor, and allowed to
        see the idea."""
        where = [User.id.in_(self.interested), User.id.not_in(self.silenced),
                 User.is_banned.is_(False)]
        if self.exclude_id is not None:
            where.append(User.id != self.exclude_id)
        if self.team_only:
            where.append(User.role.in_(TEAM_ROLES))
        return where

    def told(self) -> Select:
        """People who get an in-app notice."""
        return select(User.id).where(*self.conditions())


def team_only(*items: Idea) -> bool:
    """Whether only the team may see one of these ideas now. Everyone told has an account, so
    a members-only board is as good as public here."""
    for idea in items:
        for seen in {idea, canonical(idea)}:
            if seen.hidden_at is not None or seen.author.is_banned or not \
                    workflow.can_see_board(seen.board.visibility, signed_in=True,
                                           is_staff=False):
                return True
    return False


def _silenced(ids: list[int], canonical_id: int) -> Select:
    follows_canonical = select(Subscription.user_id).where(
        Subscription.idea_id == canonical_id, Subscription.level != SubscriptionLevel.NONE)
    return select(Subscription.user_id).where(
        Subscription.idea_id.in_(ids), Subscription.level == SubscriptionLevel.NONE,
        or_(Subscription.idea_id == canonical_id,
            Subscription.user_id.not_in(follows_canonical)))


def for_status_change(idea: Idea, *, shipped: bool, exclude: User | None) -> Audience:
    ids = group_ids(idea)
    voters = select(Vote.user_id).where(Vote.idea_id.in_(ids))
    followers = select(Subscription.user_id).where(
        Subscription.idea_id.in_(ids),
        Subscription.level.in_([SubscriptionLevel.ALL, SubscriptionLevel.STATUS]))
    # Every voter hears about shipping, even one whose subscription row went missing.
    interested = union(voters, followers) if shipped else followers
    return Audience(interested=select(interested.subquery().c[0]), voters=voters,
                    silenced=_silenced(ids, idea.id), exclude_id=exclude.id if exclude else None,
                    team_only=team_only(idea))


def for_comment(idea: Idea, *, exclude: User | None) -> Audience:
    ids = group_ids(idea)
    followers = select(Subscription.user_id).where(
        Subscription.idea_id.in_(ids), Subscription.level == SubscriptionLevel.ALL)
    return Audience(interested=followers, voters=select(Vote.user_id).where(Vote.idea_id.in_(ids)),
                    silenced=_silenced(ids, idea.id), exclude_id=exclude.id if exclude else None,
                    team_only=team_only(idea))


def for_merge(merged: Idea, *, exclude: User | None) -> Audience:
    """The voters and followers of the idea that was merged away."""
    voters = select(Vote.user_id).where(Vote.idea_id == merged.id)
    followers = select(Subscription.user_id).where(
        Subscription.idea_id == merged.id, Subscription.level != SubscriptionLevel.NONE)
    silenced = select(Subscription.user_id).where(
        Subscription.idea_id == merged.id, Subscription.level == SubscriptionLevel.NONE)
    return Audience(interested=select(union(voters, followers).subquery().c[0]), voters=voters,
                    silenced=silenced, exclude_id=exclude.id if exclude else None,
                    team_only=team_only(merged))


def mailed_now(audience: Audience, *, shipped: bool = False) -> Select:
    """(user id, email) of the people emailed at once."""
    frequencies = ([NotifyFrequency.IMMEDIATELY, NotifyFrequency.DAILY] if shipped
                   else [NotifyFrequency.IMMEDIATELY])
    return (select(User.id, User.email)
            .where(*audience.conditions(), User.notify_frequency.in_(frequencies),
                   User.email_confirmed_at.is_not(None)))


def reads_digest():
    """SQL truth value on ``users``: this person reads non-urgent news in the daily digest."""
    return and_(User.notify_frequency == NotifyFrequency.DAILY,
                User.email_confirmed_at.is_not(None))


@dataclass(frozen=True)
class Preview:
    voters: int       # voters who will be told by email (now or in the digest)
    followers: int    # followers who did not vote, told by email
    opted_out: int    # chose "none" for this idea or "never" for email
    unconfirmed: int  # told in the app only: they have not confirmed their address yet

    @property
    def notified(self) -> int:
        return self.voters + self.followers


def preview(audience: Audience) -> Preview:
    """The figures shown before confirming a change, and recorded after it."""
    told = audience.told().subquery()
    emailed = and_(User.notify_frequency != NotifyFrequency.NEVER,
                   User.email_confirmed_at.is_not(None))
    is_voter = User.id.in_(audience.voters)
    row = db.session.execute(
        select(
            func.count().filter(and_(emailed, is_voter)),
            func.count().filter(and_(emailed, ~is_voter)),
            func.count().filter(User.notify_frequency == NotifyFrequency.NEVER),
            func.count().filter(and_(User.notify_frequency != NotifyFrequency.NEVER,
                                     User.email_confirmed_at.is_(None))),
        ).where(User.id.in_(select(told.c.id)))
    ).one()
    silenced = db.session.scalar(
        select(func.count()).select_from(User).where(
            User.id.in_(audience.silenced),
            *([User.id != audience.exclude_id] if audience.exclude_id else []))) or 0
    return Preview(voters=row[0], followers=row[1], opted_out=row[2] + silenced,
                   unconfirmed=row[3])

