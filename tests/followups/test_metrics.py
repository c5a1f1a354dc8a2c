"""``/metrics`` shows what merged hotfixes still owe, by kind: open and overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from app.followups import queries
from app.rules.due_dates import obligations
from app.settings import Settings
from tests.harness import running_app
from tests.rows import hotfix_record
from tests.rules.factories import policy


async def test_the_gauges_count_open_and_overdue_follow_ups(
    make_settings: Callable[..., Settings],
) -> None:
    async with running_app(make_settings()) as app:
        now = app.clock.now()
        with app.session() as session:
            hotfix = hotfix_record(now - timedelta(hours=30))
            session.add(hotfix)
            session.flush()
            assert hotfix.id is not None
            owed = obligations(
                merged_at=hotfix.merged_at,
                author="bob",
                cleanup_owner="bob",
                breakglass=False,
                org="acme",
                policy=policy(),
            )
            rows = queries.add_follow_ups(session, hotfix_id=hotfix.id, obligations=owed, now=now)
            rows[0].state = queries.OVERDUE
            rows[1].state = queries.DONE
            session.commit()

        text = (await app.client.get("/metrics")).text

    assert 'hotfix_lane_follow_ups{kind="cleanup-pr",state="overdue"} 1.0' in text
    assert 'hotfix_lane_follow_ups{kind="cleanup-pr",state="open"} 0.0' in text
    assert 'hotfix_lane_follow_ups{kind="postmortem",state="open"} 0.0' in text
    assert 'hotfix_lane_follow_ups{kind="audit-review",state="open"} 1.0' in text
