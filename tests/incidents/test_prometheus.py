"""The Prometheus client against the fake Prometheus: the exact request, every answer shape,
and every failure as the sentence the recovery record shows."""

from __future__ import annotations

import logging
import math
import socket
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from app.incidents.prometheus import MAX_BODY_BYTES, MAX_SERIES, Prometheus, PrometheusError
from tests.fakes.prometheus_server import FakePrometheusServer, Reply

TOKEN = "prom-test-4b7d1e"
QUERY = 'sum by (region) (rate(http_errors_total{repo="acme/api", code=~"5.."}[5m])) > 0 & x'


@pytest.fixture
def server() -> Iterator[FakePrometheusServer]:
    with FakePrometheusServer() as server:
        yield server


@pytest.fixture
async def prometheus(server: FakePrometheusServer) -> AsyncIterator[Prometheus]:
    async with Prometheus(server.url, TOKEN) as client:
        yield client


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A port bound but not listening: every connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


async def _failure(client: Prometheus, promql: str = QUERY) -> str:
    with pytest.raises(PrometheusError) as info:
        await client.instant(promql)
    return str(info.value)


async def test_a_vector_gives_one_value_per_series_from_one_get(
    prometheus: Prometheus, server: FakePrometheusServer
) -> None:
    server.set_values([0.1, 0.3])

    assert await prometheus.instant(QUERY) == (0.1, 0.3)

    [request] = server.requests
    assert (request.method, request.path, request.query) == (
        "GET",
        "/api/v1/query",
        {"query": QUERY},
    )
    assert request.headers["accept"] == "application/json"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.token == TOKEN


async def test_the_standing_value_answers_every_query(
    prometheus: Prometheus, server: FakePrometheusServer
) -> None:
    server.set_value(0.2)

    assert [await prometheus.instant("up"), await prometheus.instant("up")] == [(0.2,), (0.2,)]
    assert server.queries == ["up", "up"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        pytest.param(Reply.scalar(0.5), (0.5,), id="a scalar is one value"),
        pytest.param(
            Reply.matrix([0.9, 0.5, 0.2], [0.4, 0.1]),
            (0.2, 0.1),
            id="a matrix gives the last sample of each series",
        ),
        pytest.param(Reply.vector(0.0042), (0.0042,), id="a vector of one series"),
        pytest.param(
            Reply.vector("+Inf", "-Inf", "1e-3"),
            (math.inf, -math.inf, 0.001),
            id="infinities and exponents as Prometheus writes them",
        ),
        pytest.param(
            Reply.vector(*[0.1] * MAX_SERIES, labels=[{}] * MAX_SERIES),
            (0.1,) * MAX_SERIES,
            id="10,000 series are read",
        ),
    ],
)
async def test_answers_are_read_as_floats(
    prometheus: Prometheus,
    server: FakePrometheusServer,
    reply: Reply,
    expected: tuple[float, ...],
) -> None:
    server.enqueue(reply)

    assert await prometheus.instant(QUERY) == expected


async def test_nan_is_a_value_not_an_error(
    prometheus: Prometheus, server: FakePrometheusServer
) -> None:
    server.enqueue(Reply.vector("NaN", 0.5))

    first, second = await prometheus.instant(QUERY)

    assert math.isnan(first)
    assert second == 0.5


async def test_an_empty_vector_is_no_series(
    prometheus: Prometheus, server: FakePrometheusServer
) -> None:
    server.enqueue(Reply.empty())

    assert await _failure(prometheus) == "the query returned no series"


async def test_a_query_prometheus_cannot_parse_gives_its_own_error(
    prometheus: Prometheus, server: FakePrometheusServer
) -> None:
    server.enqueue(
        Reply.error(
            'invalid parameter "query": 1:11: parse error: unclosed left parenthesis',
            status=400,
        )
    )

    assert await _failure(prometheus, "rate(x[5m]") == (
        "Prometheus refused the query (bad_data): "
        'invalid parameter "query": 1:11: parse error: unclosed left parenthesis'
    )
    assert server.queries == ["rate(x[5m]"]


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        pytest.param(
            Reply.http_status(503),
            "Prometheus answered HTTP 503",
            id="a bare 503",
        ),
        pytest.param(
            Reply.http_status(502, "<html><body>Bad Gateway</body></html>"),
            "Prometheus answered HTTP 502",
            id="a proxy's error page",
        ),
        pytest.param(
            Reply.http_status(401, "Unauthorized"),
            "Prometheus answered HTTP 401",
            id="a refused token",
        ),
        pytest.param(
            Reply(status=302, body=b""),
            "Prometheus answered HTTP 302",
            id="a redirect is not followed",
        ),
        pytest.param(
            Reply.error(
                "query timed out in expression evaluation", error_type="timeout", status=503
            ),
            "Prometheus refused the query (timeout): query timed out in expression evaluation",
            id="Prometheus's own 503 names its error",
        ),
        pytest.param(
            Reply.error(
                "found duplicate series for the match group", error_type="execution", status=422
            ),
            "Prometheus refused the query (execution): found duplicate series for the match group",
            id="an execution error",
        ),
        pytest.param(
            Reply.json_body({"status": "error", "error": "too many samples"}, status=422),
            "Prometheus refused the query: too many samples",
            id="an error without a type",
        ),
        pytest.param(
            Reply.string("hello"),
            "the query returned a string, not a number",
            id="a string result",
        ),
        pytest.param(
            Reply.json_body(
                {
                    "status": "success",
                    "data": {
                        "resultType": "vector",
                        "result": [{"metric": {}, "histogram": [1717000000.1, {"count": "3"}]}],
                    },
                }
            ),
            "the query returned native histograms, not numbers",
            id="a native histogram",
        ),
        pytest.param(
            Reply.vector(*[0.1] * (MAX_SERIES + 1), labels=[{}] * (MAX_SERIES + 1)),
            "the query returned more than 10,000 series; a verify query should select a few",
            id="more than 10,000 series",
        ),
        pytest.param(
            Reply.raw(b"<html>Grafana</html>", content_type="text/html"),
            "Prometheus answered something that is not its API's JSON",
            id="an HTML page with 200",
        ),
        pytest.param(
            Reply.json_body({"hello": "world"}),
            "Prometheus answered something that is not its API's JSON",
            id="JSON of another API",
        ),
        pytest.param(
            Reply.json_body({"status": "success", "data": {"resultType": "vector", "result": {}}}),
            "Prometheus answered something that is not its API's JSON",
            id="a result of the wrong shape",
        ),
        pytest.param(
            Reply.vector(0.5, "zero"),
            "Prometheus answered something that is not its API's JSON",
            id="a value that is no number",
        ),
        pytest.param(
            Reply.json_body(
                {
                    "status": "success",
                    "data": {"resultType": "vector", "result": [{"value": [1, 0.5]}]},
                }
            ),
            "Prometheus answered something that is not its API's JSON",
            id="a value that is not a string",
        ),
        pytest.param(
            Reply.json_body({"status": "success", "data": {"resultType": "streams", "result": []}}),
            "Prometheus answered something that is not its API's JSON",
            id="an unknown result type",
        ),
    ],
)
async def test_unusable_answers_are_explained(
    prometheus: Prometheus, server: FakePrometheusServer, reply: Reply, message: str
) -> None:
    server.enqueue(reply)

    assert await _failure(prometheus) == message


@pytest.mark.parametrize("unsized", [False, True], ids=["with Content-Length", "streamed"])
async def test_an_answer_over_1_mib_is_refused(
    prometheus: Prometheus, server: FakePrometheusServer, unsized: bool
) -> None:
    server.enqueue(Reply.raw(_padded_empty_vector(MAX_BODY_BYTES + 1), unsized=unsized))

    assert await _failure(prometheus) == (
        "Prometheus answered more than 1 MiB; a verify query should return a few series"
    )


async def test_an_answer_of_exactly_1_mib_is_read(
    prometheus: Prometheus, server: FakePrometheusServer
) -> None:
    server.enqueue(Reply.raw(_padded_empty_vector(MAX_BODY_BYTES), unsized=True))

    # Read in full and parsed: the padding is ignored, the (empty) result is what counts.
    assert await _failure(prometheus) == "the query returned no series"


async def test_a_server_that_is_down_is_unreachable(refusing_port: int) -> None:
    async with Prometheus(f"http://127.0.0.1:{refusing_port}/", TOKEN) as client:
        message = await _failure(client)

    assert (
        message
        == f"Prometheus unreachable at http://127.0.0.1:{refusing_port}/: connection refused"
    )


async def test_a_dropped_connection_is_unreachable(
    prometheus: Prometheus, server: FakePrometheusServer
) -> None:
    server.enqueue(Reply.down())

    assert await _failure(prometheus) == (
        f"Prometheus unreachable at {server.url}: the connection closed without an answer"
    )
    # The next query is answered again.
    server.set_value(0.3)
    assert await prometheus.instant(QUERY) == (0.3,)


async def test_a_server_that_never_answers_times_out(silent_port: int) -> None:
    async with Prometheus(f"http://127.0.0.1:{silent_port}", timeout=0.2) as client:
        message = await _failure(client)

    assert message == f"Prometheus did not answer within 0.2 s at http://127.0.0.1:{silent_port}/"


async def test_credentials_in_the_url_are_not_shown(refusing_port: int) -> None:
    async with Prometheus(f"http://reader:s3cret@127.0.0.1:{refusing_port}/") as client:
        message = await _failure(client)

    assert (
        message
        == f"Prometheus unreachable at http://127.0.0.1:{refusing_port}/: connection refused"
    )


@pytest.mark.parametrize("token", [None, ""], ids=["no token", "an empty token"])
async def test_without_a_token_no_authorization_is_sent(
    server: FakePrometheusServer, token: str | None
) -> None:
    server.set_value(1.0)
    async with Prometheus(server.url, token) as client:
        assert await client.instant("up") == (1.0,)

    [request] = server.requests
    assert "authorization" not in request.headers
    assert request.token is None
    assert request.headers["accept"] == "application/json"


@pytest.mark.parametrize(
    "base",
    ["prometheus/", "prometheus", "prometheus//"],
    ids=["with a trailing slash", "without one", "with two"],
)
async def test_a_path_prefix_is_kept(base: str) -> None:
    with FakePrometheusServer(prefix="/prometheus") as server:
        server.set_value(0.7)
        root = server.url.removesuffix("prometheus/")
        async with Prometheus(root + base, TOKEN) as client:
            assert await client.instant("up") == (0.7,)

        [request] = server.requests
        assert request.path == "/prometheus/api/v1/query"
        assert request.query == {"query": "up"}


async def test_a_base_url_without_a_slash_joins_the_api_path(server: FakePrometheusServer) -> None:
    server.set_value(0.7)
    async with Prometheus(server.url.rstrip("/")) as client:
        assert await client.instant("up") == (0.7,)

    assert [request.path for request in server.requests] == ["/api/v1/query"]


async def test_a_missing_prefix_is_a_404() -> None:
    with FakePrometheusServer(prefix="/prometheus") as server:
        server.set_value(0.7)
        async with Prometheus(server.url.removesuffix("prometheus/")) as client:
            message = await _failure(client)

    assert message == "Prometheus answered HTTP 404"


async def test_the_token_is_in_no_message_and_no_log_line(
    prometheus: Prometheus, server: FakePrometheusServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.enqueue(Reply.vector(0.1), Reply.error(f"bad token {TOKEN}", status=400))

    await prometheus.instant(QUERY)
    message = await _failure(prometheus)

    assert message == "Prometheus refused the query (bad_data): bad token [token]"
    assert "prometheus: instant query" in caplog.text
    assert TOKEN not in caplog.text
    assert all(
        record.levelno <= logging.DEBUG
        for record in caplog.records
        if record.name.startswith("app.")
    )


def test_a_token_that_cannot_be_a_header_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError) as info:
        Prometheus("http://127.0.0.1:9090/", "secret-part\nX-Injected: 1")

    assert str(info.value) == (
        "the Prometheus token has characters an HTTP header cannot carry"
        " (spaces, line breaks or non-ASCII)"
    )
    assert "secret-part" not in str(info.value)


@pytest.mark.parametrize("base_url", ["", "prometheus:9090", "ftp://host/", "http://"])
def test_a_base_url_that_is_no_http_url_is_refused(base_url: str) -> None:
    with pytest.raises(ValueError, match="the Prometheus URL must look like http://host:9090/"):
        Prometheus(base_url)


async def test_the_fake_answers_a_form_post_like_prometheus(server: FakePrometheusServer) -> None:
    # End-to-end tests may point clients at the fake that POST long queries as forms.
    server.set_values([0.25])
    async with httpx.AsyncClient() as client:
        response = await client.post(server.url + "api/v1/query", data={"query": "up"})

    assert response.json() == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {
                    "metric": {"__name__": "symptom", "instance": "series-0"},
                    "value": [1717000000.1, "0.25"],
                }
            ],
        },
    }
    [request] = server.requests
    assert (request.method, request.form, request.promql) == ("POST", {"query": "up"}, "up")


def _padded_empty_vector(size: int) -> bytes:
    """An empty-vector answer padded to exactly ``size`` bytes."""
    head = b'{"status":"success","data":{"resultType":"vector","result":[]},"pad":"'
    tail = b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail
