"""Notices that review the lane itself rather than one pull request: the weekly digest and the
stale runbook.

Footgun "the hotfix became normal": the digest keeps the week's figures in front of the
platform team without anyone running a report. The runbook is "stale after 90 days without
exercise": when nothing has gone through the lane for that long, the channel is asked for a
drill. Both are top-level messages about an organisation, not about a pull request, so they
have no subject and open no thread. The figures come in as plain values: the ledger counts
them, and it sits above this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from app.notify.notices.model import Notice, NoticeKind, _at, _notice

# The digest lists this many repositories and authors, then says how many it left out.
LISTED = 10

_NONE = "none"
_NEVER = "never"


def weekly_digest(
    *,
    org: str,
    since: datetime,
    until: datetime,
    hotfixes: int,
    drills: int,
    by_repository: Sequence[tuple[str, int]],
    by_author: Sequence[tuple[str, int]],
    on_time: int,
    overdue: int,
    open: int,  # shadows the builtin: the follow-up state's name, as the digest reads it
    rate_limit_trips: int,
) -> Notice:
    """The week's hotfixes, drills, follow-up deadlines and rate-limit trips of one
    organisation; keyed by the week's end, so the digest of a week is posted once."""
    drill_note = f" ({_plural(drills, 'drill')})" if drills else ""
    summary = (
        f"Weekly hotfix digest for {org}, {_day(since)} to {_day(until)}: "
        f"{_plural(hotfixes, 'hotfix', 'hotfixes')}{drill_note}, "
        f"follow-ups {on_time} on time and {overdue} overdue, {_trips(rate_limit_trips)}."
    )
    return _notice(
        NoticeKind.WEEKLY_DIGEST,
        summary,
        [
            ("Hotfixes by repository", _listed(by_repository)),
            ("Hotfixes by author", _listed([(_at(name), n) for name, n in by_author])),
            ("Follow-ups", f"{on_time} on time, {overdue} overdue, {open} open"),
            ("Rate-limit trips", str(rate_limit_trips)),
        ],
        key=f"weekly-digest:{org}:{_day(until)}",
        link=None,
    )


def runbook_stale(
    *,
    org: str,
    days: int,
    stale_after_days: int,
    last_incident: str | None,
    last_at: datetime | None,
    key_suffix: str,
    drill_label: str,
) -> Notice:
    """Nothing has merged through the lane for ``days`` (more than ``stale_after_days``):
    the runbook is no longer known to work, and a drill is how to find out.

    ``last_at`` is None when nothing ever merged; ``days`` then counts from the installation.
    ``key_suffix`` names the staleness being announced (the caller's choice, such as the date
    it started), so one stale spell is announced once.
    """
    if last_at is None:
        since, last = f"since hotfix-lane was installed {_plural(days, 'day')} ago", _NEVER
    else:
        since = f"for {_plural(days, 'day')}"
        last = f"{last_incident} on {_day(last_at)}" if last_incident else _day(last_at)
    return _notice(
        NoticeKind.RUNBOOK_STALE,
        f"no hotfix or drill has merged in {org} {since} (stale after {stale_after_days}): "
        f"run a drill, a pull request labelled {drill_label}.",
        [("Last worked", last)],
        key=f"runbook-stale:{org}:{key_suffix}",
        link=None,
    )


# --- helpers ----------------------------------------------------------------------------------


def _trips(count: int) -> str:
    if count == 0:
        return "rate limit not tripped"
    if count == 1:
        return "rate limit tripped once"
    return f"rate limit tripped {count} times"


def _listed(tally: Sequence[tuple[str, int]]) -> str:
    """``acme/api 2, acme/web 1``: the first ``LISTED`` in the order given, then the rest
    as a count, so a busy week still fits in one field."""
    if not tally:
        return _NONE
    shown = ", ".join(f"{name} {count}" for name, count in tally[:LISTED])
    rest = len(tally) - LISTED
    return f"{shown} and {rest} more" if rest > 0 else shown


def _plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def _day(when: datetime) -> str:
    # Dates are UTC days everywhere in the audit channel; a naive time would be a guess.
    if when.utcoffset() is None:
        raise ValueError(f"time {when.isoformat()} has no time zone")
    return f"{when.astimezone(UTC):%Y-%m-%d}"
