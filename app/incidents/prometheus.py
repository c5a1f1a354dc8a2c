"""Asking Prometheus for the symptom metric (runbook step 6, "verify"): one instant query.

All Prometheus calls live here. ``Prometheus.instant`` returns one float per series and turns
every failure into a ``PrometheusError`` whose text is what the recovery record and the notice
show, so it is written for the platform engineer who reads it there: what went wrong and where,
never the bearer token.

The answer is read with bounds (1 MiB, 10,000 series): a verify query selects a handful of
series, and a template that matches half the fleet should fail loudly, not fill the worker's
memory.
"""

from __future__ import annotations

import errno
import logging
import socket
import ssl
from types import TracebackType
from typing import Any

import httpx
import orjson

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
MAX_SERIES = 10_000
# Prometheus's messages quote the query; a 4000-character template makes a long one.
_MAX_ERROR_CHARS = 1000

NO_SERIES = "the query returned no series"
NOT_API_JSON = "Prometheus answered something that is not its API's JSON"
TOO_LARGE = "Prometheus answered more than 1 MiB; a verify query should return a few series"
TOO_MANY_SERIES = (
    f"the query returned more than {MAX_SERIES:,} series; a verify query should select a few"
)
A_STRING = "the query returned a string, not a number"
HISTOGRAMS = "the query returned native histograms, not numbers"


class PrometheusError(Exception):
    """Prometheus gave no usable answer; ``str()`` is a sentence for the recovery record."""


class Prometheus:
    """A client of one Prometheus (or a compatible API: Thanos, Mimir, VictoriaMetrics).

    ``base_url`` is where the UI is, e.g. ``http://prometheus:9090/`` or, behind a proxy,
    ``https://obs.example.com/prometheus/``. ``token``, when given, is sent as a bearer token
    (an empty string counts as none, as an unset variable often arrives). ``transport`` is for
    tests and for mounting a proxy.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        base = _base(base_url)
        # Credentials in the URL stay out of every message, like the token.
        self._shown = str(base.copy_with(userinfo=b""))
        self._query_url = base.join("api/v1/query")
        self._timeout = timeout
        self._token = token or None
        headers = {"Accept": "application/json"}
        if self._token is not None:
            # Checked here so that httpx never formats the header into an error of its own.
            if not all("!" <= char <= "~" for char in self._token):
                raise ValueError(
                    "the Prometheus token has characters an HTTP header cannot carry"
                    " (spaces, line breaks or non-ASCII)"
                )
            headers["Authorization"] = f"Bearer {self._token}"
        # No redirects: a login page's 302 is an answer to report, not to follow.
        self._client = httpx.AsyncClient(
            headers=headers, timeout=timeout, transport=transport, follow_redirects=False
        )

    async def __aenter__(self) -> Prometheus:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def instant(self, promql: str) -> tuple[float, ...]:
        """The query's value now: one float per series (NaN and infinities included), the last
        sample of each series for a range query. Raises ``PrometheusError``."""
        log.debug("prometheus: instant query %s", promql)
        try:
            status, body = await self._get(promql)
            values = _values(status, body)
        except PrometheusError as exc:
            error = PrometheusError(self._redact(str(exc)))
            log.debug("prometheus: %s", error)
            raise error from exc.__cause__
        log.debug("prometheus: %d series", len(values))
        return values

    async def _get(self, promql: str) -> tuple[int, bytes]:
        try:
            async with self._client.stream(
                "GET", self._query_url, params={"query": promql}
            ) as response:
                return response.status_code, await _read_bounded(response)
        except httpx.DecodingError as exc:
            raise PrometheusError(NOT_API_JSON) from exc
        except httpx.ConnectTimeout as exc:
            raise self._unreachable(f"no connection within {self._timeout:g} s") from exc
        except httpx.TimeoutException as exc:
            raise PrometheusError(
                f"Prometheus did not answer within {self._timeout:g} s at {self._shown}"
            ) from exc
        except httpx.RemoteProtocolError as exc:
            raise self._unreachable("the connection closed without an answer") from exc
        except httpx.HTTPError as exc:
            raise self._unreachable(_reason(exc)) from exc

    def _unreachable(self, reason: str) -> PrometheusError:
        return PrometheusError(f"Prometheus unreachable at {self._shown}: {reason}")

    def _redact(self, message: str) -> str:
        # Our messages never contain the token; this keeps it so if a server's error echoes it.
        return message.replace(self._token, "[token]") if self._token else message


def _base(base_url: str) -> httpx.URL:
    """The base URL with exactly one trailing slash, so the API path joins under any prefix."""
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL:
        url = httpx.URL()
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(
            "the Prometheus URL must look like http://host:9090/ (or https://, with a path)"
        )
    return url.copy_with(path=url.path.rstrip("/") + "/", query=None, fragment=None)


async def _read_bounded(response: httpx.Response) -> bytes:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise PrometheusError(TOO_LARGE)
    body = bytearray()
    # Counted as decoded: a small gzip body can unpack to far more than it says.
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise PrometheusError(TOO_LARGE)
    return bytes(body)


def _values(status: int, body: bytes) -> tuple[float, ...]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = None
    if not isinstance(document, dict):
        document = {}
    if document.get("status") == "error" and isinstance(document.get("error"), str):
        # 400 bad_data (the query does not parse), 422 execution, 503 timeout/unavailable.
        kind = document.get("errorType")
        error = _clip(document["error"])
        raise PrometheusError(
            f"Prometheus refused the query ({kind}): {error}"
            if isinstance(kind, str)
            else f"Prometheus refused the query: {error}"
        )
    if not 200 <= status < 300:
        raise PrometheusError(f"Prometheus answered HTTP {status}")
    data = document.get("data")
    if document.get("status") != "success" or not isinstance(data, dict):
        raise PrometheusError(NOT_API_JSON)
    return _result(data.get("resultType"), data.get("result"))


def _result(result_type: Any, result: Any) -> tuple[float, ...]:
    if result_type == "scalar":
        return (_sample(result),)
    if result_type == "string":
        raise PrometheusError(A_STRING)
    if result_type not in ("vector", "matrix") or not isinstance(result, list):
        raise PrometheusError(NOT_API_JSON)
    if len(result) > MAX_SERIES:
        raise PrometheusError(TOO_MANY_SERIES)
    values = tuple(_series_value(series, result_type) for series in result)
    if not values:
        raise PrometheusError(NO_SERIES)
    return values


def _series_value(series: Any, result_type: str) -> float:
    if not isinstance(series, dict):
        raise PrometheusError(NOT_API_JSON)
    if result_type == "vector":
        if "value" not in series and "histogram" in series:
            raise PrometheusError(HISTOGRAMS)
        return _sample(series.get("value"))
    samples = series.get("values")
    if samples is None and "histograms" in series:
        raise PrometheusError(HISTOGRAMS)
    # A range query's series holds its samples oldest first; the last is the value now.
    if not isinstance(samples, list) or not samples:
        raise PrometheusError(NOT_API_JSON)
    return _sample(samples[-1])


def _sample(sample: Any) -> float:
    """``[1717000000.1, "0.0042"]``: Prometheus writes values as strings ("NaN", "+Inf" too)."""
    if not (isinstance(sample, list) and len(sample) == 2 and isinstance(sample[1], str)):
        raise PrometheusError(NOT_API_JSON)
    try:
        return float(sample[1])
    except ValueError:
        raise PrometheusError(NOT_API_JSON) from None


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _reason(exc: httpx.HTTPError) -> str:
    """Why a connection failed, in words: the OS error under httpx's and anyio's wrappers."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"its TLS certificate is not trusted ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed ({cause.reason or cause})"
        if isinstance(cause, socket.gaierror):
            return "host name not found"
        if isinstance(cause, OSError) and cause.errno in _ERRNO_REASONS:
            return _ERRNO_REASONS[cause.errno]
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


_ERRNO_REASONS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connection timed out",
}
