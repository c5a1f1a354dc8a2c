"""``POST /api/github/webhooks``: check a delivery, store it, answer 202.

This is the hot path, written as a plain ASGI endpoint: GitHub gives up after 10 seconds and
never redelivers on its own, so the only job here is to get a verified delivery on disk fast.
The steps run in a fixed order (size, signature, headers, JSON, store) so a forged or broken
request is turned away before it costs anything; everything else happens in the worker.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from app import metrics
from app.intake.signature import verify
from app.intake.writer import DeliveryWriter, StoreUnavailable
from app.logs import bound_delivery

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_MAX_ID = 64  # the delivery id and event name columns


class _Reject(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookIntake:
    """The ASGI app behind the webhook route."""

    def __init__(self, *, secret: bytes, writer: DeliveryWriter, max_body_bytes: int) -> None:
        self.secret = secret
        self.writer = writer
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _respond(send, 405, {"error": "use POST"}, [(b"allow", b"POST")])
            return
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        delivery = headers.get("x-github-delivery", "-")[:_MAX_ID]
        event = headers.get("x-github-event", "")
        with bound_delivery(delivery):
            try:
                status, answer = await self._accept(headers, receive, event)
            except _Reject as reject:
                status, answer = reject.status, {"error": reject.reason}
                log.warning("rejected webhook (%d): %s", status, reject.reason)
                if status == 401:
                    metrics.SIGNATURE_FAILURES.inc()
                else:
                    metrics.DELIVERIES.labels(event[:_MAX_ID] or "-", "rejected").inc()
            await _respond(send, status, answer)

    async def _accept(
        self, headers: dict[str, str], receive: Receive, event: str
    ) -> tuple[int, dict[str, Any]]:
        body = await self._read_body(headers, receive)
        if not verify(self.secret, body, headers.get("x-hub-signature-256")):
            reason = (
                "missing X-Hub-Signature-256"
                if "x-hub-signature-256" not in headers
                else "X-Hub-Signature-256 does not match (sha256 HMAC of the body)"
            )
            raise _Reject(401, reason)
        delivery = headers.get("x-github-delivery", "").strip()
        if not event or not delivery:
            raise _Reject(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        if len(delivery) > _MAX_ID or len(event) > _MAX_ID:
            raise _Reject(400, "X-GitHub-Event or X-GitHub-Delivery header is too long")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise _Reject(400, f"body is not valid JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise _Reject(400, "body is not a JSON object")
        if event == "ping":
            log.info("ping from hook %s", payload.get("hook_id"))
            metrics.DELIVERIES.labels("ping", "answered").inc()
            return 200, {"status": "pong"}

        row = _delivery_row(delivery, event, payload, body)
        try:
            new = await self.writer.store(row)
        except StoreUnavailable as exc:
            log.error("delivery not stored, answering 503 so it can be redelivered: %s", exc)
            metrics.DELIVERIES.labels(event, "unavailable").inc()
            return 503, {"error": "storage unavailable; redeliver later"}
        outcome = "stored" if new else "duplicate"
        metrics.DELIVERIES.labels(event, outcome).inc()
        log.info(
            "%s %s.%s repo=%s installation=%s",
            outcome,
            event,
            row["action"] or "-",
            row["repository"] or "-",
            row["installation_id"] or "-",
        )
        return 202, {"status": outcome, "delivery": delivery}

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes:
        """Read the body, refusing it as soon as it is known to exceed the limit."""
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                raise _Reject(400, "Content-Length is not a number")
            if int(declared) > self.max_body_bytes:
                raise _Reject(413, f"body over {self.max_body_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Reject(400, "client disconnected before the body was read")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                raise _Reject(413, f"body over {self.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _delivery_row(
    delivery: str, event: str, payload: dict[str, Any], body: bytes
) -> dict[str, Any]:
    """The columns we index a delivery by; read leniently since payload shapes vary by event."""
    action = payload.get("action")
    installation = payload.get("installation")
    repository = payload.get("repository")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    return {
        "id": delivery,
        "event": event,
        "action": action[:64] if isinstance(action, str) else None,
        "installation_id": installation_id if isinstance(installation_id, int) else None,
        "repository": full_name[:255] if isinstance(full_name, str) else None,
        "received_at": datetime.now(UTC),
        "body": body,
    }


async def _respond(
    send: Send, status: int, answer: dict[str, Any], extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    payload = orjson.dumps(answer)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
