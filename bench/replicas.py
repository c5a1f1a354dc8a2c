"""Replicas benchmark: two ``serve --no-worker`` and two workers on one PostgreSQL.

Runs the scenario of ``tests/test_replicas.py`` (``tests/replicas.py``) at a size of your
choosing: pull requests' lives and merges posted to the two APIs with redeliveries to the
other one, one worker SIGKILLed halfway through, then checks every effect happened once and
reports how long posting and settling took. Run on demand, never in the test suite:

    python bench/replicas.py --database-url postgresql://postgres@127.0.0.1:5432/bench \
        --pulls 50 --merged 6 --posts 500

The database is emptied (its tables dropped and migrated afresh) before the run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.store import migrate  # noqa: E402
from app.store.db import make_engine  # noqa: E402
from tests.fakes.github import API_URL, FakeGitHub  # noqa: E402
from tests.fakes.slack_server import FakeSlackServer  # noqa: E402
from tests.replicas import Size, check, run, serve_repo  # noqa: E402


def fresh(url: str) -> None:
    """Drop every table (ours and Alembic's) and migrate to the newest schema."""
    engine = make_engine(url)
    with engine.begin() as conn:
        SQLModel.metadata.drop_all(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    migrate.upgrade(engine)
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database to empty")
    parser.add_argument("--pulls", type=int, default=50)
    parser.add_argument("--merged", type=int, default=6)
    parser.add_argument("--posts", type=int, default=500)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("replicas share a PostgreSQL database")
    fresh(args.database_url)
    size = Size(pulls=args.pulls, merged=args.merged, posts=args.posts)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    slack = FakeSlackServer().start()
    started = time.monotonic()
    try:
        with (
            respx.mock(base_url=API_URL, assert_all_called=False) as router,
            tempfile.TemporaryDirectory(prefix="hotfix-lane-replicas-") as tmp,
        ):
            router.route(scheme="http", host="127.0.0.1").pass_through()
            github = FakeGitHub(router)
            github.token()
            serve_repo(github)
            outcome = run(
                github,
                slack,
                postgres_url=args.database_url,
                app_key=key,
                cwd=Path(tmp),
                size=size,
            )
            counted = check(outcome, github, slack)
    finally:
        slack.stop()
    total = time.monotonic() - started
    print(
        f"{size.posts} deliveries posted ({len(outcome.deliveries)} distinct) across "
        f"{size.pulls} PRs, {size.merged} merged; two APIs, two workers, one SIGKILLed"
    )
    print(
        f"posting {outcome.posting_seconds:.1f} s "
        f"({size.posts / outcome.posting_seconds:.0f} deliveries/s), settling "
        f"{outcome.settling_seconds:.1f} s, whole run {total:.1f} s"
    )
    print("every effect once: " + ", ".join(f"{name} {n}" for name, n in counted.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
