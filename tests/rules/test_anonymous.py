"""The rules of anonymous cases, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlmodel import select

from bot.devkit import factories
from bot.privacy import Identity, Privacy
from bot.rules.anonymous import cases, drafts, relays
from bot.rules.errors import Conflict, NotAllowed
from storage.db import Database
from storage.models.anonymous import AnonymousCase, CaseDraft, CasePause
from storage.models.requests import AllyRequest, Offer
from storage.models.schedule import DueItem

ASKER = "U0ASKER"
PRIVACY = Privacy(Fernet.generate_key().decode())
IDENTITY = Identity(names=("Priya Raman", "Priya", "Raman"), emails=("priya@example.com",))
DRAFT = drafts.Draft(
    category="career_advice",
    details="I'm Priya Raman, call +44 7700 900123 or priya@example.com",
    timing="before <@U0BOSS>'s review",
)


def _open(db: Database, user_id: str = ASKER) -> int:
    with db.session() as session:
        case = cases.open_case(session, PRIVACY, user_id=user_id, draft=DRAFT, identity=IDENTITY)
        assert case.id is not None
        return case.id


def test_open_case_schedules_its_card_post_and_recording_the_card_cancels_it(
    db: Database,
) -> None:
    """R1: the case and the safety net of its card are committed together; a posted card
    (recorded) cancels the safety net, so the sweep posts nothing more."""
    from bot.jobs import queue as jobs

    case_id = _open(db)
    with db.session() as session:
        item = jobs.find(session, key=cases.card_key(case_id))
        assert item is not None and item.kind == cases.CARD and item.status == jobs.PENDING
        assert item.payload == {"case_id": case_id}
    with db.session() as session:
        cases.record_card(session, case_id=case_id, channel="G0VOLUNTEERS", ts="1.000100")
    with db.session() as session:
        item = jobs.find(session, key=cases.card_key(case_id))
        assert item is not None and item.status == jobs.CANCELLED
        assert cases.get_case(session, case_id=case_id).card_ts == "1.000100"


def test_a_failed_open_schedules_no_card(db: Database) -> None:
    """R1: a unit of work that rolls back leaves neither a case nor a due card post."""
    with pytest.raises(RuntimeError), db.session() as session:
        cases.open_case(session, PRIVACY, user_id=ASKER, draft=DRAFT, identity=IDENTITY)
        raise RuntimeError("the requester's draft was gone")
    with db.session() as session:
        assert not session.exec(select(AnonymousCase)).all()
        assert not session.exec(select(DueItem)).all()


def test_open_case_redacts_again_and_keeps_no_plain_id(db: Database) -> None:
    """The stored case holds redacted text, a sealed ID and a marker, never the plain ID."""
    case_id = _open(db)
    with db.session() as session:
        case = cases.get_case(session, case_id=case_id)
    assert case.handle.startswith("Case ") and len(case.handle) == 9
    assert "Priya" not in (case.details or "") and "7700" not in (case.details or "")
    assert "U0BOSS" not in (case.timing or "")
    assert ASKER not in (case.requester_sealed or "") and ASKER not in str(case.requester_marker)
    assert cases.requester_of(PRIVACY, case) == ASKER
    assert cases.is_requester(PRIVACY, case, ASKER)
    assert not cases.is_requester(PRIVACY, case, "U0OTHER")


def test_draft_is_sealed_owned_and_taken_once(db: Database) -> None:
    """A draft opens only for its owner and can be taken once (a double submission gets None)."""
    with db.session() as session:
        drafts.save_draft(session, PRIVACY, token="tok", user_id=ASKER, draft=DRAFT)
    with db.session() as session:
        row = session.get(CaseDraft, "tok")
        assert row is not None and "Priya" not in row.sealed and ASKER not in row.owner_marker
        assert drafts.peek_draft(session, PRIVACY, token="tok", user_id="U0OTHER") is None
        assert drafts.take_draft(session, PRIVACY, token="tok", user_id="U0OTHER") is None
    with db.session() as session:
        assert drafts.take_draft(session, PRIVACY, token="tok", user_id=ASKER) == DRAFT
    with db.session() as session:
        assert drafts.take_draft(session, PRIVACY, token="tok", user_id=ASKER) is None


def test_take_case_has_exactly_one_winner_under_concurrency(db: Database) -> None:
    """Eight volunteers taking one case at the same moment: one wins, seven get Conflict."""
    case_id = _open(db)
    barrier = threading.Barrier(8)

    def take(volunteer: str) -> str:
        barrier.wait()
        try:
            with db.session() as session:
                cases.take_case(session, case_id=case_id, volunteer_id=volunteer)
            return "won"
        except Conflict as conflict:
            return conflict.message

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(take, [f"U0VOL{i}" for i in range(8)]))
    assert results.count("won") == 1
    with db.session() as session:
        holder = cases.get_case(session, case_id=case_id).volunteer_id
    assert all(holder in r for r in results if r != "won")


def test_same_volunteer_taking_twice_is_told_once_taken(db: Database) -> None:
    """A double click by the holder changes nothing and says they already have it."""
    case_id = _open(db)
    with db.session() as session:
        cases.take_case(session, case_id=case_id, volunteer_id="U0VOL1")
    with pytest.raises(Conflict, match="already taken"), db.session() as session:
        cases.take_case(session, case_id=case_id, volunteer_id="U0VOL1")


def test_only_the_holder_may_act_on_a_case(db: Database) -> None:
    """Another volunteer cannot message, find an ally for or close someone else's case."""
    case_id = _open(db)
    with db.session() as session:
        cases.take_case(session, case_id=case_id, volunteer_id="U0VOL1")
    with pytest.raises(NotAllowed), db.session() as session:
        cases.holder_case(session, case_id=case_id, volunteer_id="U0VOL2")
    with pytest.raises(NotAllowed), db.session() as session:
        cases.close_case(
            session,
            case_id=case_id,
            volunteer_id="U0VOL2",
            outcome=cases.HELPED,
            pause=False,
            retention_days=180,
        )


def test_open_case_limit_and_pause_refuse_new_requests(db: Database) -> None:
    """After MAX_OPEN_CASES open cases, or once paused, the requester is refused."""
    with db.session() as session:
        assert cases.refusal_for(session, PRIVACY, user_id=ASKER) is None
    ids = [_open(db) for _ in range(cases.MAX_OPEN_CASES)]
    with db.session() as session:
        assert "already have" in str(cases.refusal_for(session, PRIVACY, user_id=ASKER))
        assert cases.refusal_for(session, PRIVACY, user_id="U0OTHER") is None
        cases.take_case(session, case_id=ids[0], volunteer_id="U0VOL1")
    with db.session() as session:
        cases.close_case(
            session,
            case_id=ids[0],
            volunteer_id="U0VOL1",
            outcome=cases.MISUSE,
            pause=True,
            retention_days=180,
        )
    with db.session() as session:
        assert "requests are paused" in str(cases.refusal_for(session, PRIVACY, user_id=ASKER))
        pause = session.exec(select(CasePause)).one()
        assert pause.requester_marker == PRIVACY.marker(ASKER)


def test_close_schedules_the_purge_once_and_a_second_close_conflicts(db: Database) -> None:
    """Closing records the outcome and schedules purge_case at close + retention, once."""
    case_id = _open(db)
    with db.session() as session:
        cases.take_case(session, case_id=case_id, volunteer_id="U0VOL1")
    with db.session() as session:
        case = cases.close_case(
            session,
            case_id=case_id,
            volunteer_id="U0VOL1",
            outcome=cases.HELPED,
            pause=True,  # ignored: only misuse pauses
            retention_days=30,
        )
        closed_at = case.closed_at
    with pytest.raises(Conflict), db.session() as session:
        cases.close_case(
            session,
            case_id=case_id,
            volunteer_id="U0VOL1",
            outcome=cases.MISUSE,
            pause=True,
            retention_days=30,
        )
    with db.session() as session:
        [item] = session.exec(select(DueItem).where(DueItem.kind == cases.PURGE)).all()
        assert not session.exec(select(CasePause)).all()
        assert cases.get_case(session, case_id=case_id).outcome == cases.HELPED
    assert item.kind == "purge_case" and item.key == f"purge_case:{case_id}"
    assert closed_at is not None and (item.due_at - closed_at).days == 30


def test_purge_deletes_text_and_link_and_keeps_outcome(db: Database) -> None:
    """The purge removes text, sealed IDs, marker and thread; the case still counts."""
    case_id = _open(db)
    with db.session() as session:
        cases.record_thread(
            session, PRIVACY, case_id=case_id, dm_channel="D0ASKER", thread_ts="1.1"
        )
        cases.take_case(session, case_id=case_id, volunteer_id="U0VOL1")
    with db.session() as session:
        assert not cases.purge_case(session, case_id=case_id)  # not closed yet
        cases.close_case(
            session,
            case_id=case_id,
            volunteer_id="U0VOL1",
            outcome=cases.NOT_HELPED,
            pause=False,
            retention_days=1,
        )
    for _ in range(2):  # idempotent
        with db.session() as session:
            assert cases.purge_case(session, case_id=case_id)
    with db.session() as session:
        case = session.exec(select(AnonymousCase)).one()
    assert case.details is None and case.timing is None
    assert case.requester_sealed is None and case.requester_marker is None
    assert case.dm_sealed is None and case.thread_ts is None and case.purged_at is not None
    assert case.outcome == cases.NOT_HELPED and case.status == cases.CLOSED


def test_reveal_only_by_the_requester_once_after_an_ally(db: Database) -> None:
    """Only the requester can reveal, only after an ally was found, and only once."""
    case_id = _open(db)
    with pytest.raises(Conflict), db.session() as session:
        cases.reveal(session, PRIVACY, case_id=case_id, user_id=ASKER)
    with db.session() as session:
        assert cases.mark_ally_found(session, case_id=case_id)
        assert not cases.mark_ally_found(session, case_id=case_id)
    with pytest.raises(NotAllowed), db.session() as session:
        cases.reveal(session, PRIVACY, case_id=case_id, user_id="U0VOL1")
    with db.session() as session:
        assert cases.reveal(session, PRIVACY, case_id=case_id, user_id=ASKER).revealed_at
    with pytest.raises(Conflict), db.session() as session:
        cases.reveal(session, PRIVACY, case_id=case_id, user_id=ASKER)


def test_case_in_thread_needs_the_right_person_and_channel(db: Database) -> None:
    """A thread is the case's only for the requester, in their own DM."""
    case_id = _open(db)
    with db.session() as session:
        assert cases.record_thread(
            session, PRIVACY, case_id=case_id, dm_channel="D0ASKER", thread_ts="9.9"
        )
        assert not cases.record_thread(
            session, PRIVACY, case_id=case_id, dm_channel="D0X", thread_ts="8.8"
        )
    with db.session() as session:
        found = cases.case_in_thread(
            session, PRIVACY, user_id=ASKER, channel="D0ASKER", thread_ts="9.9"
        )
        assert found is not None and found.id == case_id
        assert not cases.case_in_thread(
            session, PRIVACY, user_id="U0OTHER", channel="D0ASKER", thread_ts="9.9"
        )
        assert not cases.case_in_thread(
            session, PRIVACY, user_id=ASKER, channel="D0OTHER", thread_ts="9.9"
        )


def test_closing_as_helped_earns_the_volunteers_unit_points_once(db: Database) -> None:
    """A case closed as helped adds 5 points to the volunteer's BU; misuse adds none."""
    from storage.models.points import PointsEntry

    factories.member(db, "U0VOL1", "People")
    helped, misused = _open(db), _open(db)
    for case_id, outcome in ((helped, cases.HELPED), (misused, cases.MISUSE)):
        with db.session() as session:
            cases.take_case(session, case_id=case_id, volunteer_id="U0VOL1")
        with db.session() as session:
            cases.close_case(
                session,
                case_id=case_id,
                volunteer_id="U0VOL1",
                outcome=outcome,
                pause=False,
                retention_days=30,
            )
    with pytest.raises(Conflict), db.session() as session:
        cases.close_case(
            session,
            case_id=helped,
            volunteer_id="U0VOL1",
            outcome=cases.HELPED,
            pause=False,
            retention_days=30,
        )
    with db.session() as session:
        entries = session.exec(select(PointsEntry)).all()
    assert [(e.amount, e.source) for e in entries] == [(5, f"case:{helped}:volunteer")]


def test_purge_also_deletes_feedback_comments_on_the_cases_match(db: Database) -> None:
    """Comments left on the case's match go with the purge; the answers (counts) stay."""
    from storage.models.feedback import Feedback
    from storage.models.requests import Match

    case_id = _open(db)
    with db.session() as session:
        cases.take_case(session, case_id=case_id, volunteer_id="U0VOL1")
        ask = AllyRequest(
            kind="anonymous",
            category="listening",
            details="x",
            status="matched",
            chooser_id="U0VOL1",
            on_behalf_of="Case TEST",
        )
        session.add(ask)
        session.flush()
        assert ask.id is not None
        cases.attach_ask(session, case_id=case_id, request_id=ask.id)
        offer = Offer(request_id=ask.id, ally_user_id="U0ALLY1", source="button")
        session.add(offer)
        session.flush()
        assert offer.id is not None
        match = Match(request_id=ask.id, offer_id=offer.id, ally_user_id="U0ALLY1")
        session.add(match)
        session.flush()
        assert match.id is not None
        session.add(
            Feedback(
                token="t1",
                match_id=match.id,
                role="requester",
                answer="worked",
                comment="Thanks, this is Priya Raman",
            )
        )
        session.add(
            Feedback(
                token="t2",
                match_id=match.id,
                role="ally",
                user_id="U0ALLY1",
                answer="worked",
                comment="glad to help",
            )
        )
    with db.session() as session:
        cases.close_case(
            session,
            case_id=case_id,
            volunteer_id="U0VOL1",
            outcome=cases.HELPED,
            pause=False,
            retention_days=1,
        )
    with db.session() as session:
        assert cases.purge_case(session, case_id=case_id)
    with db.session() as session:
        rows = session.exec(select(Feedback)).all()
    assert [(r.answer, r.comment) for r in rows] == [("worked", None), ("worked", None)]


# the security review of issue 4


def _take(db: Database, case_id: int, volunteer: str = "U0VOL1") -> None:
    with db.session() as session:
        cases.take_case(session, case_id=case_id, volunteer_id=volunteer, privacy=PRIVACY)


def test_the_requester_cannot_take_their_own_case(db: Database) -> None:
    """A volunteer who asked anonymously is refused their own case; others may take it."""
    case_id = _open(db, user_id="U0VOL1")
    with pytest.raises(NotAllowed, match="you asked"), db.session() as session:
        cases.take_case(session, case_id=case_id, volunteer_id="U0VOL1", privacy=PRIVACY)
    with db.session() as session:
        assert cases.get_case(session, case_id=case_id).status == cases.OPEN
    _take(db, case_id, "U0VOL2")
    with db.session() as session:
        assert cases.get_case(session, case_id=case_id).volunteer_id == "U0VOL2"


def test_a_reply_is_kept_sealed_once_with_its_due_sync(db: Database) -> None:
    """The reply's words are sealed, its message known by a keyed hash; a repeat keeps none."""
    from bot.jobs import queue as jobs
    from storage.models.anonymous import CaseRelay

    case_id = _open(db)
    reply = relays.Reply("I'm Priya, 07700 900123")
    with db.session() as session:
        relay_id = relays.record_reply(
            session, PRIVACY, case_id=case_id, ts="5.000100", reply=reply
        )
        assert relay_id is not None
    with db.session() as session:
        again = relays.record_reply(session, PRIVACY, case_id=case_id, ts="5.000100", reply=reply)
        assert again is None
    with db.session() as session:
        [row] = session.exec(select(CaseRelay)).all()
        assert "5.000100" not in row.source_marker and "Priya" not in str(row.pending_sealed)
        assert relays.pending_reply(PRIVACY, row) == reply
        item = jobs.find(session, key=relays.relay_key(relay_id, 0))
        assert item is not None and item.kind == relays.RELAY and item.status == jobs.PENDING
        relays.record_copy(
            session,
            PRIVACY,
            relay_id=relay_id,
            channel="D0VERA",
            ts="6.000100",
            holder="U0VOL1",
            version=0,
        )
    with db.session() as session:
        row = session.exec(select(CaseRelay)).one()
        assert row.pending_sealed is None and row.copy_ts == "6.000100"
        # Whom the copy went to, by a keyed marker of its own kind (never the one that
        # marks a requester, which would tie this volunteer to cases they asked).
        assert row.holder_marker and "U0VOL1" not in row.holder_marker
        assert row.holder_marker != PRIVACY.marker("U0VOL1")
        item = jobs.find(session, key=relays.relay_key(relay_id, 0))
        assert item is not None and item.status == jobs.CANCELLED


def test_edits_and_deletions_of_a_kept_reply_each_get_a_due_sync(db: Database) -> None:
    """An edit re-seals the words, a deletion drops them; each change is a new due item."""
    from bot.jobs import queue as jobs
    from storage.models.anonymous import CaseRelay

    case_id = _open(db)
    with db.session() as session:
        relay_id = relays.record_reply(
            session, PRIVACY, case_id=case_id, ts="5.1", reply=relays.Reply("first")
        )
        assert relay_id is not None
        unknown = relays.change_reply(
            session, PRIVACY, case_id=case_id, ts="7.7", reply=relays.Reply("x")
        )
        assert unknown is None
    with db.session() as session:
        assert (
            relays.change_reply(
                session, PRIVACY, case_id=case_id, ts="5.1", reply=relays.Reply("second")
            )
            == relay_id
        )
    with db.session() as session:
        row = session.exec(select(CaseRelay)).one()
        assert relays.pending_reply(PRIVACY, row) == relays.Reply("second") and row.version == 1
        assert jobs.find(session, key=relays.relay_key(relay_id, 1)) is not None
        relays.change_reply(session, PRIVACY, case_id=case_id, ts="5.1", reply=None)
    with db.session() as session:
        row = session.exec(select(CaseRelay)).one()
        assert row.withdrawn and row.pending_sealed is None and row.version == 2
        assert relays.pending_relays(session, case_id=case_id) == [relay_id]
        relays.drop_relay(session, relay_id=relay_id)
    with db.session() as session:
        assert not session.exec(select(CaseRelay)).all()


def test_the_purge_takes_every_replys_words_and_schedules_blanking_the_copies(
    db: Database,
) -> None:
    """Uncopied replies go; copied ones keep only where their copy is, until it is blanked."""
    from bot.jobs import queue as jobs
    from storage.models.anonymous import CaseRelay

    case_id = _open(db)
    _take(db, case_id)
    with db.session() as session:
        copied = relays.record_reply(
            session, PRIVACY, case_id=case_id, ts="1.1", reply=relays.Reply("one")
        )
        relays.record_reply(session, PRIVACY, case_id=case_id, ts="2.2", reply=relays.Reply("two"))
        assert copied is not None
        relays.record_copy(
            session,
            PRIVACY,
            relay_id=copied,
            channel="D0VERA",
            ts="3.3",
            holder="U0VOL1",
            version=0,
        )
        relays.change_reply(session, PRIVACY, case_id=case_id, ts="1.1", reply=relays.Reply("uno"))
    with db.session() as session:
        cases.close_case(
            session,
            case_id=case_id,
            volunteer_id="U0VOL1",
            outcome=cases.HELPED,
            pause=False,
            retention_days=1,
        )
    with db.session() as session:
        assert cases.purge_case(session, case_id=case_id)
    with db.session() as session:
        [row] = session.exec(select(CaseRelay)).all()
        assert row.id == copied and row.pending_sealed is None and row.copy_ts == "3.3"
        item = jobs.find(session, key=f"{relays.RELAYS_PURGE}:{case_id}")
        assert item is not None and item.payload == {"case_id": case_id}


def test_release_reopens_the_case_once_and_withdraws_its_open_ask(db: Database) -> None:
    """A holder who left: the case is open again (one release wins), its open ask withdrawn."""
    from bot.jobs import queue as jobs

    case_id, ask_id = _taken_with_open_ask(db)
    with db.session() as session:
        key = cases.release_case(session, case_id=case_id, volunteer_id="U0VOL1")
        assert key is not None
    with db.session() as session:
        assert cases.release_case(session, case_id=case_id, volunteer_id="U0VOL1") is None
    with db.session() as session:
        case = cases.get_case(session, case_id=case_id)
        assert case.status == cases.OPEN and case.volunteer_id is None
        assert case.ask_request_id is None and case.taken_at is None
        withdrawn = session.get(AllyRequest, ask_id)
        assert withdrawn is not None and withdrawn.status == "withdrawn"
        assert withdrawn.details is None and withdrawn.submission_key is None
        item = jobs.find(session, key=key)
        assert item is not None and item.payload == {"case_id": case_id, "ask_id": ask_id}
    _take(db, case_id, "U0VOL2")


def test_a_draft_is_due_to_expire_in_a_day_unless_it_is_taken(db: Database) -> None:
    """Saving a draft schedules its deletion; taking it cancels that; the expiry deletes."""
    from bot.jobs import queue as jobs

    with db.session() as session:
        drafts.save_draft(session, PRIVACY, token="kept", user_id=ASKER, draft=DRAFT)
        drafts.save_draft(session, PRIVACY, token="taken", user_id=ASKER, draft=DRAFT)
    with db.session() as session:
        assert drafts.take_draft(session, PRIVACY, token="taken", user_id=ASKER) == DRAFT
    with db.session() as session:
        kept = jobs.find(session, key=drafts.draft_key("kept"))
        taken = jobs.find(session, key=drafts.draft_key("taken"))
        assert kept is not None and kept.status == jobs.PENDING
        assert (kept.due_at - kept.created_at) >= drafts.DRAFT_MAX_AGE - timedelta(seconds=5)
        assert taken is not None and taken.status == jobs.CANCELLED
        assert drafts.expire_draft(session, token="kept")
        assert not drafts.expire_draft(session, token="kept")
        assert not session.exec(select(CaseDraft)).all()


def _taken_with_open_ask(db: Database) -> tuple[int, int]:
    """A case taken by U0VOL1 with an open ask in the allies channel; (case id, ask id)."""
    case_id = _open(db)
    _take(db, case_id)
    return case_id, factories.case_ask(db, case_id)


def _locks_the_ask_before_the_case(
    db: Database, case_id: int, ask_id: int, run: Callable[[], object]
) -> object:
    """Hold the ask's lock (as forget-me does first) while `run` starts in another thread:
    once it waits for that lock, the case must still be free to lock. Returns its result."""
    from sqlalchemy import text

    waiting = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with ThreadPoolExecutor(max_workers=1) as pool:
        with db.session() as forgetting:
            forgetting.exec(
                select(AllyRequest).where(AllyRequest.id == ask_id).with_for_update()
            ).one()
            running = pool.submit(run)
            try:
                for _ in range(300):
                    with db.engine.connect() as look:  # a fresh view of the other backends
                        if look.execute(waiting).scalar():
                            break
                    threading.Event().wait(0.05)
                else:
                    pytest.fail("it never waited for the ask's lock")
                forgetting.execute(text("SET LOCAL lock_timeout = '2s'"))
                cases.get_case(forgetting, case_id=case_id, lock=True)  # it holds none
            finally:
                forgetting.rollback()
        return running.result(timeout=30)


def test_a_release_locks_the_ask_before_the_case(db: Database) -> None:
    """PostgreSQL: a release waiting for the ask's lock holds no lock on the case, so a
    forget-me (ask, then case) running at once never deadlocks with it."""
    if not db.is_postgres:
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers)")
    case_id, ask_id = _taken_with_open_ask(db)

    def release() -> str | None:
        with db.session() as session:
            return cases.release_case(session, case_id=case_id, volunteer_id="U0VOL1")

    assert _locks_the_ask_before_the_case(db, case_id, ask_id, release) is not None


def test_the_retention_purge_locks_the_ask_before_the_case(db: Database) -> None:
    """PostgreSQL: the purge (which empties the ask's text too) takes the same lock order."""
    if not db.is_postgres:
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers)")
    case_id, ask_id = _taken_with_open_ask(db)
    with db.session() as session:
        cases.close_case(
            session,
            case_id=case_id,
            volunteer_id="U0VOL1",
            outcome=cases.HELPED,
            pause=False,
            retention_days=1,
        )

    def purge() -> bool:
        with db.session() as session:
            return cases.purge_case(session, case_id=case_id)

    assert _locks_the_ask_before_the_case(db, case_id, ask_id, purge) is True
