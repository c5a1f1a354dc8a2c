"""SQLite's WAL starts over instead of growing for as long as intake is busy."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from app.store import migrate
from app.store.db import Checkpointer, make_engine


def test_a_big_wal_is_restarted_and_cut_back(tmp_path: Path) -> None:
    db = tmp_path / "wal.db"
    engine = make_engine(f"sqlite:///{db}", background_checkpoint=True)
    migrate.upgrade(engine)
    checkpointer = Checkpointer(engine, restart_above_bytes=1 << 20)

    def write(rows: int, tag: str) -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO delivery (id, event, received_at, body) "
                    "VALUES (:id, 'push', '2026-11-26 09:00:00', :body)"
                ),
                [{"id": f"{tag}-{i}", "body": os.urandom(20_000)} for i in range(rows)],
            )

    write(200, "burst")  # ~4 MB into the WAL
    assert Path(f"{db}-wal").stat().st_size > 1 << 20
    assert checkpointer.checkpoint() == "restart"

    write(1, "after")  # starts over at the beginning of the WAL
    raw = engine.raw_connection()
    try:
        frames = raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    finally:
        raw.close()
    assert frames * 16384 < 1 << 20
    assert checkpointer.checkpoint() == "passive"
    engine.dispose()
