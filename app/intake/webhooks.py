"""``POST /api/github/webhooks``: check a delivery, store it, answer 202.

This is the hot path, written as a plain ASGI endpoint: GitHub gives up after 10 seconds and
never redelivers on its own, so the only job here is to get a verified delivery on disk fast.
The steps run in a fixed order (size, signature, headers, JSON, store) so a forged or broken
request is turned away before it costs anything; everything else happens in the worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from typing import Annotated, Any

import msgspec

from app.clock import Clock
from app.intake import metrics
from app.intake.signature import verify
from app.intake.writer import DeliveryWriter, StoreUnavailable
from app.logs import delivery_id as bound_delivery_id

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_MAX_ID = 64  # the delivery id and event name columns
# Bodies past this many bytes are read LARGE_AT_ONCE at a time (GitHub's are rarely this big:
# a push of many commits); one waits LARGE_WAIT_SECONDS at most for its turn, then 503.
LARGE_BODY = 1024 * 1024
LARGE_AT_ONCE = 4
LARGE_WAIT_SECONDS = 8.0
# A body must arrive within this long (GitHub gives up on us after 10 s).
BODY_SECONDS = 10.0
# Rejected requests are counted always, logged this many a second at most (a flood must not
# become a flood of log lines).
REJECTION_LOGS_PER_SECOND = 5
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1  # the installation_id column (BIGINT)


class _Reject(Exception):
    def __init__(self, status: int, reason: str, *, signed: bool = True) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        # Refused before the signature was checked: the event name is anybody's, so it is
        # not used as a metric label (every new label value is a new time series).
        self.signed = signed


# The only fields intake indexes a delivery by. Decoding into these structs still checks that
# the whole body is JSON, but builds no objects for the rest of it: several times cheaper
# than a full parse of a 25 KB payload. A payload where one of them has another shape is
# valid JSON all the same: it is read again leniently (``_lenient_index``).
class _Installation(msgspec.Struct):
    id: Annotated[int, msgspec.Meta(ge=_INT64_MIN, le=_INT64_MAX)] | None = None


class _Repository(msgspec.Struct):
    full_name: str | None = None


class _Indexed(msgspec.Struct):
    action: str | None = None
    installation: _Installation | None = None
    repository: _Repository | None = None


_decode_indexed = msgspec.json.Decoder(_Indexed).decode
_decode_any = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode

_Index = tuple[str | None, int | None, str | None]  # action, installation id, repository


class WebhookIntake:
    """The ASGI app behind the webhook route."""

    def __init__(
        self,
        *,
        secret: bytes,
        writer: DeliveryWriter,
        max_body_bytes: int,
        clock: Clock,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock
        # Called once a new delivery is stored (serve's worker wakes for it).
        self.on_stored = on_stored
        self.secret = secret
        self.writer = writer
        self.max_body_bytes = max_body_bytes
        # prometheus-client's labels() takes a lock and validates on every call.
        self._counters: dict[tuple[str, str], Any] = {}
        # Bodies past LARGE_BODY are read a few at a time: anyone can send 25 MB of junk
        # before the signature is checked, and a flood of them must not fill the memory.
        self._large = asyncio.Semaphore(LARGE_AT_ONCE)
        self._rejections = _Sampled(per_second=REJECTION_LOGS_PER_SECOND)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await _respond(send, 405, {"error": "use POST"}, [(b"allow", b"POST")])
            return
        # Header names arrive lower-cased; as with any dict, the last of repeated ones wins.
        headers: dict[bytes, bytes] = dict(scope["headers"])
        raw_delivery = headers.get(b"x-github-delivery")
        delivery = raw_delivery.decode("latin-1") if raw_delivery is not None else ""
        event = headers.get(b"x-github-event", b"").decode("latin-1")
        token = bound_delivery_id.set(delivery[:_MAX_ID] if raw_delivery is not None else "-")
        try:
            try:
                status, answer = await self._accept(headers, receive, event, delivery.strip())
            except _Reject as reject:
                status, answer = reject.status, {"error": reject.reason}
                metrics.REJECTED.labels(str(status)).inc()
                if (skipped := self._rejections.allow(time.monotonic())) is not None:
                    more = f" ({skipped} more not logged)" if skipped else ""
                    log.warning("rejected webhook (%d): %s%s", status, reject.reason, more)
                if status == 401:
                    metrics.SIGNATURE_FAILURES.inc()
                else:
                    label = event[:_MAX_ID] if reject.signed and event else "-"
                    metrics.DELIVERIES.labels(label, "rejected").inc()
            await _respond(send, status, answer)
        finally:
            bound_delivery_id.reset(token)

    async def _accept(
        self, headers: dict[bytes, bytes], receive: Receive, event: str, delivery: str
    ) -> tuple[int, dict[str, Any]]:
        body = await self._read_body(headers.get(b"content-length"), receive)
        signature = headers.get(b"x-hub-signature-256")
        if not verify(
            self.secret, body, signature.decode("latin-1") if signature is not None else None
        ):
            reason = (
                "missing X-Hub-Signature-256"
                if signature is None
                else "X-Hub-Signature-256 does not match (sha256 HMAC of the body)"
            )
            raise _Reject(401, reason, signed=False)
        if not event or not delivery:
            raise _Reject(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        if len(delivery) > _MAX_ID or len(event) > _MAX_ID:
            raise _Reject(400, "X-GitHub-Event or X-GitHub-Delivery header is too long")
        action, installation_id, repository = _index(body)
        if event == "ping":
            log.info("ping from hook %s", _hook_id(body))
            self._count("ping", "answered")
            return 200, {"status": "pong"}

        row = {
            "id": delivery,
            "event": event.replace("\x00", ""),
            "action": action,
            "installation_id": installation_id,
            "repository": repository,
            "received_at": self.clock.now(),
            "body": body,
        }
        try:
            new = await self.writer.store(row)
        except StoreUnavailable as exc:
            log.error("delivery not stored, answering 503 so it can be redelivered: %s", exc)
            self._count(event, "unavailable")
            return 503, {"error": "storage unavailable; redeliver later"}
        outcome = "stored" if new else "duplicate"
        self._count(event, outcome)
        if new and self.on_stored is not None:
            self.on_stored()
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s %s.%s repo=%s installation=%s",
                outcome,
                event,
                action or "-",
                repository or "-",
                installation_id or "-",
            )
        return 202, {"status": outcome, "delivery": delivery}

    def _count(self, event: str, outcome: str) -> None:
        """Count a delivery whose signature checked out (so its event name is GitHub's)."""
        key = (event, outcome)
        counter = self._counters.get(key)
        if counter is None:
            counter = self._counters[key] = metrics.DELIVERIES.labels(event, outcome)
        counter.inc()

    async def _read_body(self, declared: bytes | None, receive: Receive) -> bytes:
        """Read the body, refusing it as soon as it is known to exceed the limit; a large one
        waits its turn (``LARGE_AT_ONCE`` at a time, for ``LARGE_WAIT_SECONDS`` at most)."""
        if declared is not None:
            if not declared.isdigit():  # bytes: ASCII digits only
                raise _Reject(400, "Content-Length is not a number", signed=False)
            if int(declared) > self.max_body_bytes:
                raise _Reject(413, f"body over {self.max_body_bytes} bytes", signed=False)
            if int(declared) > LARGE_BODY:
                async with self._turn():
                    return await self._in_time(self._receive_body(receive))
        return await self._in_time(self._receive_body(receive, gate=True))

    async def _in_time(self, reading: Awaitable[bytes]) -> bytes:
        """A body that takes longer than ``BODY_SECONDS`` to arrive is refused: GitHub sends
        within its own 10 s, and a slow sender must not hold a large body's turn for ever."""
        try:
            async with asyncio.timeout(BODY_SECONDS):
                return await reading
        except TimeoutError:
            raise _Reject(
                408, f"body not received within {BODY_SECONDS:g} s", signed=False
            ) from None

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        try:
            await asyncio.wait_for(self._large.acquire(), LARGE_WAIT_SECONDS)
        except TimeoutError:
            raise _Reject(503, "too many large bodies at once; try again", signed=False) from None
        try:
            yield
        finally:
            self._large.release()

    async def _receive_body(self, receive: Receive, *, gate: bool = False) -> bytes:
        """The body's chunks, joined once; with ``gate``, a body without a declared length
        that grows past ``LARGE_BODY`` waits its turn before reading on."""
        message = await receive()
        chunks: list[bytes] = []
        size = 0
        turn: contextlib.AsyncExitStack | None = None
        try:
            while True:
                if message["type"] == "http.disconnect":
                    raise _Reject(400, "client disconnected before the body was read", signed=False)
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    raise _Reject(413, f"body over {self.max_body_bytes} bytes", signed=False)
                if gate and turn is None and size > LARGE_BODY:
                    turn = contextlib.AsyncExitStack()
                    await turn.enter_async_context(self._turn())
                if not message.get("more_body", False):
                    if not chunks:
                        return bytes(chunk)  # the usual case: the whole body in one message
                    chunks.append(chunk)
                    return b"".join(chunks)
                chunks.append(chunk)
                message = await receive()
        finally:
            if turn is not None:
                await turn.aclose()


class _Sampled:
    """Lets through at most ``per_second`` events a second; says how many it held back."""

    def __init__(self, *, per_second: int) -> None:
        self.per_second = per_second
        self._second = -1.0
        self._count = 0
        self._held_back = 0

    def allow(self, now: float) -> int | None:
        """The number held back since the last one let through, or None to hold this one."""
        second = float(int(now))
        if second != self._second:
            self._second, self._count = second, 0
        if self._count >= self.per_second:
            self._held_back += 1
            return None
        self._count += 1
        held, self._held_back = self._held_back, 0
        return held


def _index(body: bytes) -> _Index:
    """Check that the body is a JSON object and read the fields a delivery is indexed by.

    Fields of an unexpected shape are not indexed (None); the body is stored as it is.
    """
    if not body.isascii():
        # The typed decode skips the fields it does not read without decoding their strings;
        # invalid UTF-8 anywhere must still be refused, as a full parse would.
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Reject(400, f"body is not valid JSON: not UTF-8 at byte {exc.start}") from exc
    try:
        indexed = _decode_indexed(body)
    except msgspec.ValidationError:
        pass  # JSON, but not the shape we index by: read it again, leniently
    except (msgspec.DecodeError, RecursionError) as exc:
        raise _Reject(400, f"body is not valid JSON: {exc}") from exc
    else:
        installation, repository = indexed.installation, indexed.repository
        action = indexed.action
        full_name = repository.full_name if repository is not None else None
        return (
            _text(action, 64),
            installation.id if installation is not None else None,
            _text(full_name, 255),
        )
    try:
        payload = _decode_any(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise _Reject(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise _Reject(400, "body is not a JSON object")
    return _lenient_index(payload)


def _hook_id(body: bytes) -> object:
    try:
        payload = _decode_any(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise _Reject(400, f"body is not valid JSON: {exc}") from exc
    return payload.get("hook_id") if isinstance(payload, dict) else None


def _lenient_index(payload: dict[str, Any]) -> _Index:
    action = payload.get("action")
    installation = payload.get("installation")
    repository = payload.get("repository")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    return (
        _text(action, 64),
        # bool is an int subclass; an id beyond BIGINT would fail the whole batch's insert.
        installation_id
        if type(installation_id) is int and _INT64_MIN <= installation_id <= _INT64_MAX
        else None,
        _text(full_name, 255),
    )


def _text(value: object, limit: int) -> str | None:
    """An indexed field as stored: a string without NUL characters (PostgreSQL's text
    cannot hold one, and they mean nothing in a name), cut to its column's size."""
    if not isinstance(value, str):
        return None
    return value.replace("\x00", "")[:limit]


async def _respond(
    send: Send, status: int, answer: dict[str, Any], extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    payload = _encode(answer)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
