"""GitHub audit-log events, read leniently but checked for what the ledger needs.

Events reach us from a log forwarder (``POST /api/audit-log``) or from the Enterprise Cloud
REST API (the poller). Both carry GitHub's own JSON: ``action``, ``@timestamp`` (epoch
milliseconds), ``_document_id``, ``actor``, ``org``, ``repo`` and per-action fields. Forwarders
add fields of their own and some turn the timestamp into a string, so extra fields are kept and
ignored, while an event we could not store or date is refused with a reason naming the field:
the sender must learn that its events are not arriving, not have them silently dropped.

Nothing here does I/O; ``parse_entry`` is a pure function of one decoded JSON value.
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from app.policy.keys import dotted_path

# The columns these values are stored in (``AuditEvent``).
_MAX_ACTION = 128
_MAX_NAME = 255

# Epoch milliseconds outside these bounds are a unit mistake or garbage, never a real event:
# GitHub's audit log starts long after 2008, and nothing is logged in the next century.
_EARLIEST = datetime(2008, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# An epoch-seconds value for any date after 2001 is below this; epoch milliseconds never are.
_SECONDS_CEILING = 1e11


# Fields the ledger cannot act without, by action: an override is matched by its repository.
REQUIRED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "protected_branch.policy_override": ("repo",),
}


class MalformedEvent(ValueError):
    """An event the ledger cannot take; ``str()`` says what is wrong with it."""


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log event, checked: what the ledger reads from it, and the event whole."""

    action: str
    document_id: str | None
    created_at: datetime
    org: str | None
    repo: str | None
    actor: str | None
    fields: Mapping[str, Any]
    # The event as stored: compact JSON of exactly what was received.
    body: str

    @property
    def reference(self) -> str:
        """The event's identity in notice keys and the ledger: GitHub's ``_document_id``, or
        for an event without one a digest of its content (the same event sent twice then
        still yields one notice)."""
        return self.document_id or content_reference(self.body)

    def text(self, *names: str) -> str | None:
        """The first of ``names`` that holds a non-empty string (fields vary by action)."""
        for name in names:
            value = self.fields.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None


def content_reference(body: str) -> str:
    """The reference of an event that has no ``_document_id``."""
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()[:40]


def parse_entry(value: object) -> AuditEntry:
    """Check one decoded event; raise ``MalformedEvent`` naming the first problem."""
    if not isinstance(value, dict):
        raise MalformedEvent(f"is a JSON {_json_type(value)}, not an object")
    _refuse_nul(value)
    action = value.get("action")
    if not isinstance(action, str) or not action.strip():
        raise MalformedEvent('has no "action" (a non-empty string)')
    action = action.strip()
    if len(action) > _MAX_ACTION:
        raise MalformedEvent(f'"action" is longer than {_MAX_ACTION} characters')
    entry = AuditEntry(
        action=action,
        document_id=_optional_name(value, "_document_id"),
        created_at=_timestamp(value),
        org=_optional_name(value, "org"),
        repo=_optional_name(value, "repo"),
        actor=_optional_name(value, "actor"),
        fields=value,
        body=_body(value),
    )
    for name in REQUIRED_FIELDS.get(action, ()):
        if entry.text(name) is None:
            raise MalformedEvent(f'is a {action} event without "{name}"')
    return entry


def _body(event: Mapping[str, Any]) -> str:
    """The event as compact JSON text. orjson writes NUL as the escape ``\\u0000`` (six ASCII
    characters), so the text itself never holds one and PostgreSQL stores it."""
    try:
        return orjson.dumps(event).decode()
    except orjson.JSONEncodeError as exc:
        # orjson reads nesting up to 1024 deep but writes only 255: such an event would
        # otherwise escape as a TypeError and the endpoint would answer 500 to every retry.
        raise MalformedEvent(f"cannot be stored as JSON: {exc}") from exc


def _refuse_nul(event: Mapping[str, Any]) -> None:
    """Refuse an event with a NUL character in any string, key or value, at any depth.

    PostgreSQL refuses NUL in text columns, so such an event would fail its insert, the whole
    batch with it, and the sender would be told 503 ("try again") forever. Its strings reach
    columns (action, actor, org, repo, ``_document_id``) and notices (branch, team, user, ...),
    and no real audit event carries NUL, so the event is refused as malformed wherever it is.
    Walked breadth first without recursion (decoded JSON may nest deeper than Python's stack),
    so the field named is the shallowest one, in the order received.
    """
    pending: deque[tuple[tuple[str | int, ...], object]] = deque([((), event)])
    while pending:
        path, value = pending.popleft()
        if isinstance(value, str):
            if "\0" in value:
                raise MalformedEvent(f'"{dotted_path(path)}" contains a NUL character (\\u0000)')
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\0" in key:
                    where = f'"{dotted_path(path)}" has' if path else "has"
                    raise MalformedEvent(f"{where} a field name with a NUL character ({key!r})")
                pending.append(((*path, key), item))
        elif isinstance(value, list):
            pending.extend(((*path, index), item) for index, item in enumerate(value))


def _optional_name(event: Mapping[str, Any], key: str) -> str | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEvent(f'"{key}" is a JSON {_json_type(value)}, not a string')
    value = value.strip()
    if len(value) > _MAX_NAME:
        raise MalformedEvent(f'"{key}" is longer than {_MAX_NAME} characters')
    return value or None


def _timestamp(event: Mapping[str, Any]) -> datetime:
    """``@timestamp``, else ``created_at``: epoch milliseconds (GitHub's form), or an ISO 8601
    string (what some forwarders turn it into)."""
    for key in ("@timestamp", "created_at"):
        if key in event and event[key] is not None:
            return _instant(key, event[key])
    raise MalformedEvent('has no "@timestamp" or "created_at"')


def _instant(key: str, value: object) -> datetime:
    if isinstance(value, bool):
        raise MalformedEvent(f'"{key}" is a boolean, not a time')
    millis: float | None = None
    if isinstance(value, int | float):
        millis = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            millis = float(text)
        except ValueError:
            return _iso_instant(key, text)
    else:
        raise MalformedEvent(f'"{key}" is a JSON {_json_type(value)}, not a time')
    if not math.isfinite(millis):
        raise MalformedEvent(f'"{key}" is not a finite number')
    if 0 < abs(millis) < _SECONDS_CEILING:
        raise MalformedEvent(f'"{key}" looks like epoch seconds; GitHub sends epoch milliseconds')
    try:
        instant = datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MalformedEvent(f'"{key}" is out of range') from exc
    return _plausible(key, instant)


def _iso_instant(key: str, text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedEvent(f'"{key}" is neither epoch milliseconds nor an ISO 8601 time') from exc
    # Forwarders that drop the zone still mean UTC: GitHub logs in UTC.
    instant = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)
    return _plausible(key, instant)


def _plausible(key: str, instant: datetime) -> datetime:
    if not _EARLIEST <= instant < _LATEST:
        raise MalformedEvent(f'"{key}" is not a plausible time ({instant.date().isoformat()})')
    return instant


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def parse_located(located: Sequence[tuple[str, object]]) -> list[AuditEntry]:
    """Check every event of a batch, each given with where it was (``line 3``, ``event at
    index 2``); the first malformed one raises ``MalformedEvent`` naming that place."""
    entries: list[AuditEntry] = []
    for where, value in located:
        try:
            entries.append(parse_entry(value))
        except MalformedEvent as exc:
            raise MalformedEvent(f"{where} {exc}") from exc
    return entries
