"""``POST /api/audit-log``: GitHub audit-log events from a log forwarder (HTTP only).

What the events mean is ``app.auditlog``'s; this module authenticates, bounds and decodes.

The steps run in a fixed order, cheapest refusal first: bearer token (compared in constant
time; with no ``HOTFIX_LANE_AUDIT_LOG_TOKEN`` configured every request is refused, so the
endpoint is never open by accident), body size, decoding (one JSON object, a JSON array, or
NDJSON), then every event checked before any is stored. A batch is stored whole in one
transaction, with the notices it calls for, or not at all: a sender told 400 can fix and resend
the batch without leaving half of it behind, and a 503 (database down) can be retried as is
because events are deduplicated on ``_document_id``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Sequence

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.auditlog.events import AuditEntry, MalformedEvent, parse_located
from app.auditlog.ingest import IngestResult, ingest
from app.policy.loader import default_policy
from app.services import Services

log = logging.getLogger(__name__)

AUDIT_LOG_PATH = "/api/audit-log"
_NDJSON_TYPES = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
_CHALLENGE = 'Bearer realm="hotfix-lane audit log"'


class Refused(Exception):
    """A request turned away: the status, the reason for the sender, extra headers."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.headers = headers or {}


def audit_log_router(services: Services) -> APIRouter:
    """The router to mount on the app; it reads settings and the engine from ``services``."""
    intake = AuditLogIntake(services)
    router = APIRouter()
    router.add_api_route(AUDIT_LOG_PATH, intake.handle, methods=["POST"], include_in_schema=False)
    return router


class AuditLogIntake:
    """The handler behind ``POST /api/audit-log``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle(self, request: Request) -> Response:
        try:
            self._authorise(request.headers.get("authorization"))
            body = await self._read_body(request)
            located = decode_events(body, request.headers.get("content-type"))
            try:
                entries = parse_located(located)
            except MalformedEvent as exc:
                raise Refused(400, str(exc)) from exc
        except Refused as refused:
            log.warning("audit log: refused (%d): %s", refused.status, refused.reason)
            return JSONResponse(
                {"error": refused.reason}, status_code=refused.status, headers=refused.headers
            )
        try:
            result = await asyncio.to_thread(self._store, entries)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            log.error("audit log: %d events not stored, answering 503: %s", len(entries), reason)
            return JSONResponse({"error": "storage unavailable; send again later"}, 503)
        log.info(
            "audit log: %d events received, %d stored, %d duplicates, %d notices queued",
            len(entries),
            result.stored,
            result.duplicates,
            result.notices,
        )
        return JSONResponse({"stored": result.stored, "duplicates": result.duplicates}, 202)

    def _authorise(self, header: str | None) -> None:
        configured = self.services.settings.audit_log_token
        token = configured.get_secret_value() if configured is not None else ""
        if not token.strip():
            raise Refused(
                403,
                "the audit-log endpoint is disabled: HOTFIX_LANE_AUDIT_LOG_TOKEN is not set",
            )
        scheme, _, given = (header or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise Refused(
                401,
                "missing bearer token (Authorization: Bearer <token>)",
                {"WWW-Authenticate": _CHALLENGE},
            )
        if not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise Refused(
                401,
                "bearer token does not match",
                {"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
            )

    async def _read_body(self, request: Request) -> bytes:
        """Read the body, refusing it as soon as it is known to exceed the limit."""
        limit = self.services.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise Refused(413, f"body over {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refused(413, f"body over {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _store(self, entries: Sequence[AuditEntry]) -> IngestResult:
        services = self.services
        with Session(services.engine) as session:
            result = ingest(
                session,
                entries=entries,
                settings=services.settings,
                # Audit events are organisation-wide and come without a repository's policy
                # file to hand; the defaults (bypass team, match window) apply.
                policy=default_policy(),
                now=services.clock.now(),
            )
            session.commit()
        return result


def decode_events(body: bytes, content_type: str | None = None) -> list[tuple[str, object]]:
    """The events in ``body`` with where each was: one object, an array, or NDJSON.

    Raises ``Refused`` (400) naming what could not be read.
    """
    if not body.strip():
        raise Refused(400, "body is empty; send a JSON object, a JSON array or NDJSON")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in _NDJSON_TYPES:
        return _ndjson(body)
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if _first_line_is_object(body):
            return _ndjson(body)
        raise Refused(400, f"body is not valid JSON: {exc}") from exc
    if isinstance(value, list):
        return [(f"event at index {index}", item) for index, item in enumerate(value)]
    if isinstance(value, dict):
        return [("event", value)]
    raise Refused(400, "body is neither a JSON object, a JSON array nor NDJSON")


def _first_line_is_object(body: bytes) -> bool:
    first = body.strip().split(b"\n", 1)[0]
    try:
        return isinstance(orjson.loads(first), dict)
    except orjson.JSONDecodeError:
        return False


def _ndjson(body: bytes) -> list[tuple[str, object]]:
    events: list[tuple[str, object]] = []
    for number, line in enumerate(body.split(b"\n"), start=1):
        if not line.strip():
            continue  # blank lines (and a trailing newline) separate nothing
        try:
            events.append((f"line {number}", orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            raise Refused(400, f"line {number} is not valid JSON: {exc}") from exc
    return events
