"""The year-end programme's outgoing Slack work: cards, decision DMs, and their retries.

A card is posted once (bot.jobs.once: claimed, posted with no transaction open, its ts
recorded on the item), so two tries make one post. What a decision must show (the card
redrawn, the reporter and the ally told) is one due item written with the decision; the
deciding click runs its steps at once and the scheduler runs whatever is left, each once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.jobs import once
from bot.jobs import queue as jobs
from bot.jobs.once import Step
from bot.rules.errors import NotFound
from bot.rules.points import ledger
from bot.rules.yearend import assessment, calls
from handlers.common.deps import Deps
from handlers.common.redraw import Drawing, Read, post_once, redraw
from handlers.yearend.ids import ACCEPT, DECLINE, item_value
from messages.render import render_blocks
from storage import yearend as store
from storage.models.yearend import AllyshipStory
from storage.types import utcnow

logger = logging.getLogger(__name__)

CARD = "yearend_card"
DECIDED = "yearend_decided"
PURGE = "yearend_purge"


class YearendItem(jobs.Payload):
    """CARD and PURGE: the event or story (its kind and id)."""

    kind: str
    id: int


class Decided(YearendItem):
    """DECIDED: the item decided and the points its decision awarded."""

    points: int | None = None


def card_key(kind: str, item_id: int) -> str:
    """The due item that posts a card if the first try failed."""
    return f"{CARD}:{kind}:{item_id}"


def decided_key(kind: str, item_id: int) -> str:
    """The due item of a decision's follow-ups."""
    return f"{DECIDED}:{kind}:{item_id}"


def schedule_card(session: Session, *, kind: str, item_id: int) -> None:
    """The card's safety net, written with the item (the sweep posts it if the listener fails)."""
    jobs.schedule(
        session,
        kind=CARD,
        key=card_key(kind, item_id),
        due_at=utcnow() + jobs.DEFAULT_LEASE,
        payload=YearendItem(kind=kind, id=item_id),
    )


def schedule_decided(
    session: Session, *, kind: str, item_id: int, points_awarded: int, retention_days: int
) -> None:
    """A decision's follow-ups, written with the decision; a story's text purge, due
    ALLYBOT_RETENTION_DAYS after it."""
    if kind == assessment.STORY:
        jobs.schedule(
            session,
            kind=PURGE,
            key=f"{PURGE}:{kind}:{item_id}",
            due_at=utcnow() + timedelta(days=retention_days),
            payload=YearendItem(kind=kind, id=item_id),
        )
    jobs.schedule(
        session,
        kind=DECIDED,
        key=decided_key(kind, item_id),
        due_at=utcnow() + jobs.DEFAULT_LEASE,
        payload=Decided(kind=kind, id=item_id, points=points_awarded),
    )


def card_blocks(view: assessment.ItemView) -> list[dict[str, Any]]:
    """The card's blocks for the item as it is now."""
    return render_blocks(
        "yearend/card.json.j2",
        i=view,
        value=item_value(view.kind, view.id),
        accept_id=ACCEPT[view.kind],
        decline_id=DECLINE[view.kind],
    )


def card_text(view: assessment.ItemView) -> str:
    """The card's notification text (never the user's words)."""
    noun = "story" if view.kind == assessment.STORY else "event"
    return f"An allyship {noun} ({view.status})"


def post_card(client: WebClient, d: Deps, *, kind: str, item_id: int) -> bool:
    """Post the item's card to the volunteers channel once; False if it is already up."""
    with d.db.read() as session:
        item = assessment.load(session, kind=kind, item_id=item_id)
        view = None if item.card_ts else assessment.view(session, item)
    posted = view is not None and (
        post_once(
            client,
            d.db,
            card_key(kind, item_id),
            channel=d.settings.volunteers_channel,
            text=card_text(view),
            blocks=card_blocks(view),
            record=lambda session, channel, ts: assessment.record_card(
                session, kind=kind, item_id=item_id, channel=channel, ts=ts
            ),
            read=_card_read(kind, item_id),
        ).sent
    )
    with d.db.session() as session:
        jobs.cancel(session, key=card_key(kind, item_id))
    return posted


def redraw_card(client: WebClient, d: Deps, *, kind: str, item_id: int) -> None:
    """Show the item's state on its card (no live decision buttons once decided)."""
    try:
        redraw(client, d.db, _card_read(kind, item_id))
    except SlackApiError as error:
        if error.response.get("error") != "message_not_found":
            raise
        logger.info("a year-end card was deleted in Slack; nothing to redraw")


def _card_read(kind: str, item_id: int) -> Read:
    def read(session: Session) -> Drawing | None:
        item = assessment.load(session, kind=kind, item_id=item_id)
        if not (item.card_channel and item.card_ts):
            return None
        view = assessment.view(session, item)
        return Drawing(item.card_channel, item.card_ts, card_text(view), card_blocks(view))

    return read


def on_card_due(d: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The safety net: post the card if it is still missing."""
    card = item.read(YearendItem)
    post_card(client, d, kind=card.kind, item_id=card.id)


def _tell(
    client: WebClient, d: Deps, *, kind: str, item_id: int, role: str, points_awarded: int
) -> None:
    with d.db.read() as session:
        item = assessment.load(session, kind=kind, item_id=item_id)
        reporter, ally = assessment.told(session, kind=kind, item_id=item_id)
        view = assessment.view(session, item)
        reason = item.decline_reason
        self_story = isinstance(item, AllyshipStory) and item.reporter_id == item.ally_id
    person = reporter if role == "reporter" else ally
    if person is None:
        return
    noun = "story" if kind == assessment.STORY else "event"
    text = (
        f"Your allyship {noun} was accepted."
        if view.status == assessment.ACCEPTED
        else f"Your allyship {noun} was not accepted."
    )
    if role == "ally":
        text = "A colleague shared a story of your allyship, and it was accepted."
    client.chat_postMessage(
        channel=person,
        text=text,
        blocks=render_blocks(
            "yearend/outcome.json.j2",
            i=view,
            role=role,
            points=points_awarded,
            reason=reason,
            self_story=self_story,
        ),
    )


def decision_steps(client: WebClient, d: Deps, payload: Decided) -> list[Step]:
    """Redraw the card; tell the reporter (or logger) and, if accepted, the ally."""
    kind, item_id = payload.kind, payload.id
    awarded = payload.points or 0
    steps = [
        Step("card", lambda: redraw_card(client, d, kind=kind, item_id=item_id)),
        Step(
            "reporter",
            lambda: _tell(
                client, d, kind=kind, item_id=item_id, role="reporter", points_awarded=awarded
            ),
        ),
    ]
    with d.db.read() as session:
        status = assessment.load(session, kind=kind, item_id=item_id).status
    if kind == assessment.STORY and status == assessment.ACCEPTED:
        steps.append(
            Step(
                "ally",
                lambda: _tell(
                    client, d, kind=kind, item_id=item_id, role="ally", points_awarded=awarded
                ),
            )
        )
    return steps


def run_decision(
    client: WebClient, d: Deps, *, kind: str, item_id: int, points_awarded: int
) -> None:
    """Run a decision's follow-ups now (the deciding click)."""
    payload = Decided(kind=kind, id=item_id, points=points_awarded)
    once.run_steps(
        d.db,
        key=decided_key(kind, item_id),
        steps=decision_steps(client, d, payload),
        what="decision",
    )


def on_decided_due(d: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """The scheduler's run of a decision's follow-ups (those that failed at the click)."""
    once.run_due_steps(
        d.db, key=item.key, steps=decision_steps(client, d, item.read(Decided)), what="decision"
    )


def awarded_points(award: ledger.Award | None) -> int:
    """The points a decision earned (0 for none)."""
    return award.amount if award is not None and award.awarded else 0


def on_stories_call_due(d: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """Post the call for stories to the announcements channel, once per fire time."""
    year = item.read(calls.StoriesCall).year or item.due_at.astimezone(d.settings.zone).year
    post = partial(
        client.chat_postMessage,
        channel=d.settings.announcements_channel,
        text=f"Share your {year} allyship stories: /ally story",
        blocks=render_blocks("yearend/call.json.j2", year=year),
    )
    once.run_due_steps(
        d.db, key=item.key, steps=[Step("post", post)], what="stories call", clear=False
    )


def on_purge_due(d: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """Delete a decided story's text after the retention period; its card says so."""
    story_id = item.read(YearendItem).id
    with d.db.session() as session:
        store.purge_story_text(session, story_id=story_id, now=item.now)
    redraw_card(client, d, kind=assessment.STORY, item_id=story_id)


def on_redraw_due(d: Deps, client: WebClient, item: jobs.DueWork) -> None:
    """Redraw the cards a forget-me changed (each redraw is idempotent)."""
    for kind, item_id in item.read(assessment.RedrawCards).items:
        try:
            redraw_card(client, d, kind=kind, item_id=item_id)
        except NotFound:
            continue


def story_campaign_open(d: Deps) -> bool:
    """Whether the call for stories has gone out this calendar year (the campaign runs from
    the cron's first fire time of the year to the year's end)."""
    zone = d.settings.zone
    now = utcnow().astimezone(zone)
    start = now.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    first = d.settings.stories_call_trigger().get_next_fire_time(None, start)
    return first is not None and first.year == now.year and first <= now
