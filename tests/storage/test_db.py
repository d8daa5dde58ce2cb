"""The unit of work and the read-only look."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import InvalidRequestError
from sqlmodel import select

from storage.db import Database
from storage.models.programme import BusinessUnit


def test_a_read_does_not_wait_for_a_writer_holding_its_transaction(db: Database) -> None:
    """While a unit of work holds the write lock (e.g. during a Web API call), reads go on."""
    with db.session() as session:
        session.add(BusinessUnit(name="Engineering"))
    writing, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with db.session() as session:
            session.add(BusinessUnit(name="Sales"))
            session.flush()
            writing.set()
            release.wait(10)

    writer = threading.Thread(target=slow_writer)
    writer.start()
    assert writing.wait(10)
    try:
        with db.read() as session:
            names = [u.name for u in session.exec(select(BusinessUnit))]
        assert names == ["Engineering"]  # the writer's row is not committed yet
    finally:
        release.set()
        writer.join()
    with db.read() as session:
        assert len(session.exec(select(BusinessUnit)).all()) == 2


def test_a_failing_unit_of_work_leaves_nothing_behind(db: Database) -> None:
    """An exception inside the unit of work rolls everything back."""
    try:
        with db.session() as session:
            session.add(BusinessUnit(name="Ghost"))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with db.read() as session:
        assert session.exec(select(BusinessUnit)).all() == []


def test_a_session_used_after_its_block_raises_instead_of_leaking_a_transaction(
    db: Database,
) -> None:
    """Rows read stay usable after the block; the session itself does not (a query there
    would open a transaction that nothing ends, holding locks others wait for)."""
    with db.session() as session:
        session.add(BusinessUnit(name="Sales"))
    with db.read() as session:
        unit = session.exec(select(BusinessUnit)).one()
    assert unit.name == "Sales"
    with pytest.raises(InvalidRequestError):
        session.exec(select(BusinessUnit)).all()
    with db.session() as writing:
        writing.add(BusinessUnit(name="Legal"))
    with pytest.raises(InvalidRequestError):
        writing.exec(select(BusinessUnit)).all()
