"""Several processes starting at once on a fresh database all migrate it without crashing.

Each thread stands for a process: its own engine (its own connections), all released together
so their migrations overlap. Between processes, PostgreSQL used to fail all but one with a
``UniqueViolation`` on ``pg_type_typname_nsp_index`` (the same CREATE TABLE twice). Threads
of one process also share Alembic's module-level ``context``, so without the lock they fail
(or wedge on one another's connection) as well: the lock must keep Alembic itself one at a time.
"""

from __future__ import annotations

import threading

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from app.store import migrate
from app.store.db import make_engine

PROCESSES = 3
# A migration takes well under a second; this only stops a wedged thread hanging the run.
JOIN_TIMEOUT_SECONDS = 30


@pytest.mark.empty_database
def test_concurrent_upgrades_of_a_fresh_database_all_succeed(database_url: str) -> None:
    engines = [make_engine(database_url) for _ in range(PROCESSES)]
    for engine in engines:
        # Connect first, so that the barrier releases the migrations themselves at once.
        engine.connect().close()
    start = threading.Barrier(PROCESSES)
    failures: list[BaseException] = []

    def start_up(engine: Engine) -> None:
        start.wait()
        try:
            migrate.upgrade(engine)
        except BaseException as exc:  # asserted below, not lost in the thread
            failures.append(exc)

    threads = [threading.Thread(target=start_up, args=(engine,), daemon=True) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN_TIMEOUT_SECONDS)

        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
        with engines[0].connect() as conn:
            assert (
                MigrationContext.configure(conn).get_current_revision()
                == ScriptDirectory(str(migrate.MIGRATIONS)).get_current_head()
            )
            assert "auditevent" in inspect(conn).get_table_names()
    finally:
        for engine in engines:
            engine.dispose()
