"""Prune benchmark: 100,000 old deliveries pruned while intake keeps storing new ones.

Fills a SQLite database (the embedded default; or ``--database-url postgresql://…``) with old
deliveries and their done jobs, then runs ``app.store.prune`` while a second thread stores a
delivery every few milliseconds the way intake does (one short write transaction each), and
reports the longest prune batch (how long it held the write lock) and the longest wait of an
intake write. Run on demand, never in the tests:

    python bench/prune.py --rows 100000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.store import migrate  # noqa: E402
from app.store.db import make_engine  # noqa: E402
from app.store.models import Delivery, Job  # noqa: E402
from app.store.prune import prune  # noqa: E402

NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=40)
BODY = b'{"action": "opened"}' * 50


def fill(url: str, rows: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    stamp = OLD.timestamp()
    with engine.begin() as conn:
        for start in range(0, rows, 5000):
            ids = [f"old-{n}" for n in range(start, min(start + 5000, rows))]
            conn.execute(
                insert(Delivery),
                [{"id": i, "event": "push", "received_at": OLD, "body": BODY} for i in ids],
            )
            conn.execute(
                insert(Job),
                [
                    {
                        "kind": "delivery",
                        "key": f"delivery:{i}",
                        "ref": i,
                        "status": "done",
                        "run_at": stamp,
                        "attempts": 1,
                        "max_attempts": 8,
                        "created_at": stamp,
                        "updated_at": stamp,
                    }
                    for i in ids
                ],
            )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/hotfix-lane.db"
        started = time.perf_counter()
        fill(url, args.rows)
        print(
            f"{args.rows} old deliveries and jobs written in {time.perf_counter() - started:.1f} s"
        )
        engine = make_engine(url)
        waits: list[float] = []
        stop = threading.Event()

        def intake() -> None:
            n = 0
            while not stop.is_set():
                begin = time.perf_counter()
                with engine.begin() as conn:
                    conn.execute(
                        insert(Delivery).values(
                            id=f"new-{n}", event="push", received_at=NOW, body=BODY
                        )
                    )
                waits.append(time.perf_counter() - begin)
                n += 1
                time.sleep(0.005)

        writer = threading.Thread(target=intake)
        writer.start()
        started = time.perf_counter()
        pruned = prune(engine, before=NOW - timedelta(days=30))
        took = time.perf_counter() - started
        stop.set()
        writer.join()
        engine.dispose()
        batches = sorted(pruned.batches)
        print(
            f"pruned {pruned.deliveries} deliveries and {pruned.jobs} jobs in {took:.1f} s, "
            f"{len(batches)} batches: median {statistics.median(batches) * 1000:.1f} ms, "
            f"longest {batches[-1] * 1000:.1f} ms"
        )
        waits.sort()
        print(
            f"intake meanwhile: {len(waits)} deliveries stored, median "
            f"{statistics.median(waits) * 1000:.1f} ms, p99 "
            f"{waits[int(len(waits) * 0.99) - 1] * 1000:.1f} ms, longest {waits[-1] * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
