"""The organisation's floor: what a repository's file may not change, and which way it may move.

A repository's ``.github/hotfix-lane.yml`` is written by whoever can push to the repository, the
very people the lane constrains. So, over the defaults and the organisation's file:

- a locked key (``LOCKED``, plus the organisation's ``locked:`` list) is ignored outright;
- a key in ``TIGHTEN`` may only move the stricter way; a loosening value is ignored;
- any other key the repository may set.

Everything ignored is returned as an ``IgnoredKey`` so that the check run can say so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from app.policy.keys import dotted_path
from app.policy.model import IgnoredKey

LOCKED_REASON = "locked by the organisation"

# Only the organisation (or the defaults) sets these: who is in the lane, what an incident is,
# who approves and bypasses, where the audit trail goes, the scan, and whether a rule runs at
# all; where hotfixes are declared, and what makes a pull request a drill (a drill is not
# counted by the rate limit), and whether verdicts block at all. Locking ``locked`` keeps the
# list whole.
LOCKED: tuple[str, ...] = (
    "lane",
    "incident",
    "teams",
    "audit",
    "status",
    "drill",
    "mode",
    "rules.scan",
    "rules.*.enabled",
    "locked",
)

# A direction takes the floor's value and the repository's, and returns the value to use and,
# when the repository's would loosen the floor, why it was (partly) ignored.
Direction = Callable[[Any, Any], tuple[Any, str | None]]


def _lower(floor: Any, value: Any) -> tuple[Any, str | None]:
    if value <= floor:
        return value, None
    return floor, f"would loosen: {value:g} > {floor:g}"


def _higher(floor: Any, value: Any) -> tuple[Any, str | None]:
    if value >= floor:
        return value, None
    return floor, f"would loosen: {value:g} < {floor:g}"


def _only_on(floor: Any, value: Any) -> tuple[Any, str | None]:
    if value or not floor:
        return value, None
    return floor, "would loosen: true → false"


def _union(floor: Any, value: Any) -> tuple[Any, str | None]:
    # The repository's list adds to the floor's: leaving an entry out is no request to drop it.
    return [*floor, *(item for item in value if item not in floor)], None


def _subset(floor: Any, value: Any) -> tuple[Any, str | None]:
    kept = [item for item in value if item in floor]
    added = [item for item in value if item not in floor]
    return kept, (f"would loosen: adds {', '.join(map(str, added))}" if added else None)


def _subset_unless_any(floor: Any, value: Any) -> tuple[Any, str | None]:
    # An empty floor lets anyone report; a repository may name whom it trusts. A floor that
    # names creators may only be narrowed.
    if not floor:
        return value, None
    return _subset(floor, value) if value else (floor, "would loosen: anyone may report")


def _ranked(*loosest_first: str) -> Direction:
    def direction(floor: Any, value: Any) -> tuple[Any, str | None]:
        if loosest_first.index(value) >= loosest_first.index(floor):
            return value, None
        return floor, f"would loosen: {value} < {floor}"

    return direction


# Every number, list and switch of the schema that makes the lane stricter one way. Not here and
# not locked (cleanup.*, trailers.*, follow_ups.remind_before_hours, rules.scan's own keys are
# locked anyway): the repository may set it freely, as its naming conventions differ.
TIGHTEN: dict[str, Direction] = {
    "rules.diff-size.max_lines": _lower,
    # Files left out of the line count: a repository may count more, never skip more.
    "rules.diff-size.ignore": _subset,
    "rules.single-concern.max_top_level_dirs": _lower,
    "rules.single-concern.blocking": _only_on,
    "rules.fast-path.checks": _union,
    "rate_limit.max_hotfixes": _lower,
    # A longer window counts more merged hotfixes against the same limit.
    "rate_limit.window_days": _higher,
    # Counting across the organisation reaches the limit sooner than per repository.
    "rate_limit.scope": _ranked("repository", "organisation"),
    "author_quota.note_after": _lower,
    "author_quota.code_yellow_after": _lower,
    "follow_ups.cleanup_hours": _lower,
    "follow_ups.postmortem_hours": _lower,
    "follow_ups.audit_review_days": _lower,
    "follow_ups.breakglass_hours": _lower,
    # More labels mark more hotfixes as breakglass; more sections ask more of a postmortem.
    "follow_ups.breakglass_labels": _union,
    "follow_ups.postmortem_sections": _union,
    "runbook.stale_after_days": _lower,
    # Fewer who may report a deployment is stricter.
    "deploy.creators": _subset_unless_any,
}


def apply_floor(
    source: str,
    floor: Mapping[str, Any],
    override: Mapping[str, Any],
    locked: Iterable[str] = (),
) -> tuple[dict[str, Any], tuple[IgnoredKey, ...]]:
    """``override`` (a repository's file) without what it may not set over ``floor``.

    ``locked`` adds the organisation's own dotted keys (``*`` stands for one key) to ``LOCKED``.
    A value equal to the floor's is no change, so it is never reported.
    """
    patterns = [key.split(".") for key in (*LOCKED, *locked)]
    ignored: list[IgnoredKey] = []

    def walk(path: list[str], base: Any, data: Mapping[str, Any]) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, value in data.items():
            here = [*path, str(key)]
            current = base.get(key) if isinstance(base, Mapping) else None
            if value == current:
                kept[key] = value
                continue
            dotted = dotted_path(here)
            if any(_matches(pattern, here) for pattern in patterns):
                ignored.append(IgnoredKey(source, dotted, LOCKED_REASON))
            elif (direction := TIGHTEN.get(dotted)) is not None and current is not None:
                used, reason = direction(current, value)
                kept[key] = used
                if reason is not None:
                    ignored.append(IgnoredKey(source, dotted, reason))
            elif isinstance(value, Mapping):
                kept[key] = walk(here, current, value)
            else:
                kept[key] = value
        return kept

    return walk([], floor, override), tuple(ignored)


def _matches(pattern: Sequence[str], path: Sequence[str]) -> bool:
    """Whether ``path`` is the locked key ``pattern`` or inside it."""
    return len(path) >= len(pattern) and all(
        part in ("*", key) for part, key in zip(pattern, path, strict=False)
    )
