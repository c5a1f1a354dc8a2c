"""What the ledger says about a new hotfix: the rate-limit count, the author's quarter and the
incident's earlier hotfixes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.ledger.records import (
    count_merged,
    count_overdue_follow_ups,
    incident_hotfixes,
    quarter_bounds,
)
from app.policy.model import Policy
from app.rules.model import LaneHistory, MergedHotfix


def read_history(
    session: Session,
    *,
    repo_full_name: str,
    author: str,
    incident_id: str | None,
    policy: Policy,
    now: datetime,
) -> LaneHistory:
    """What ``rate-limit``, ``no-chained-hotfix`` and the author-quota note need, as of
    ``now``; without an incident id there are no earlier hotfixes of it to list."""
    org = repo_full_name.split("/", 1)[0]
    window = policy.rate_limit
    in_window = count_merged(
        session,
        org=org,
        since=now - timedelta(days=window.window_days),
        until=now,
        repo_full_name=repo_full_name if window.scope == "repository" else None,
    )
    start, end = quarter_bounds(now)
    by_author = count_merged(session, org=org, since=start, until=end, author=author)
    overdue = count_overdue_follow_ups(session, org=org, author=author, since=start, until=end)
    same_incident = (
        ()
        if incident_id is None
        else tuple(
            MergedHotfix(repo_full_name=row.repo_full_name, number=row.number, title=row.title)
            for row in incident_hotfixes(session, org=org, incident_id=incident_id)
        )
    )
    return LaneHistory(
        merged_in_window=in_window,
        author_this_quarter=by_author,
        quarter=quarter_name(now),
        author_overdue_this_quarter=overdue,
        incident_hotfixes=same_incident,
    )


def quarter_name(at: datetime) -> str:
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"
