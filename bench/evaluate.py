"""Evaluation benchmark: hotfix PRs evaluated per second against the real ``serve``.

Starts a plain, fast fake GitHub (a threading HTTP/1.1 server on 127.0.0.1, not respx) and
``hotfix-lane serve`` (API and worker in one process, SQLite in a temporary folder) pointed at
it, then delivers signed ``pull_request.opened`` events for compliant hotfix PRs, each with a
fresh number and head sha: first one at a time, then a burst from a thread pool. The time
from a delivery's POST to its commit status reaching the fake is "event to status". Run on
demand, never in the test suite:

    python bench/evaluate.py --singles 20 --burst 60 --concurrency 4

The server is pinned to one core (``taskset``) when possible and this process (the fake and
the senders) to another, so CPU per evaluation is the app's own. Targets (issue "evaluation
benchmark"): at most 10 ms app CPU per warm evaluation, at least 50 evaluations/s for a
burst of 60 PRs, p99 event to status under 1 s for that burst and under 150 ms for one event.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import webhook_headers  # noqa: E402
from tests.fakes.github import APP_ID, INSTALLATION_ID, REPO, load, load_webhook, pem  # noqa: E402
from tests.lane.scenario import (  # noqa: E402
    COMPLIANT_MESSAGE,
    Repo,
    commit_entry,
    review_entry,
)
from tests.serving import serve  # noqa: E402

SECRET = "bench-webhook-secret"
FIRST_NUMBER = 10_000
WARM_UP = 5
# (status, body) of one reply; every body is JSON.
Reply = tuple[int, bytes]
Handler = Callable[[re.Match[str], bytes], Reply]


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


NOT_FOUND: Reply = (404, _json(load("not_found")))


def head_sha(number: int) -> str:
    return f"{number:040x}"


def pull_request_event(number: int) -> dict[str, Any]:
    """``pull_request.opened`` for a compliant hotfix PR ``number`` at its own head sha."""
    event: dict[str, Any] = load_webhook("pull_request.opened")
    pr = event["pull_request"]
    event["number"] = pr["number"] = number
    pr["head"]["sha"] = head_sha(number)
    # The fixture is a hotfix already: the label, the hotfix/ branch, the HOTFIX: title and a
    # body naming the approver and the cleanup owner; the asserts keep the bench honest.
    assert [label["name"] for label in pr["labels"]] == ["hotfix"]
    assert pr["head"]["ref"].startswith("hotfix/") and pr["title"].startswith("HOTFIX:")
    return event


# --- the fake GitHub ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """A commit status as it reached the fake."""

    at: float  # time.perf_counter() on arrival
    state: str
    description: str


class FakeGitHub:
    """What GitHub answers for compliant hotfix PRs of ``REPO``; records what the app sent.

    Every reply is built from ``tests/fixtures/github`` and ``tests/lane/scenario.py``'s
    ``Repo`` defaults: one commit with ``COMPLIANT_MESSAGE`` at the head, one small file, an
    approving review by @alice on the head, the four CI checks green, @alice active in
    sre-leads, no policy file (the shipped defaults), main protected.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pulls: dict[int, bytes] = {}
        self._runs: dict[int, dict[str, Any]] = {}
        self._next_run_id = 900_000_000
        self.requests: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.statuses: dict[str, list[Published]] = {}
        # head sha -> the conclusions our check run was created or updated with.
        self.check_runs: dict[str, list[str | None]] = {}
        repo = Repo()
        self._files = _json(repo.files)
        self._check_run_entries = repo.check_runs
        self._teams = repo.teams
        self._app = _json(load("app"))
        self._rules = _json(repo.rules)
        self._branch = _json(
            {
                "name": "main",
                "commit": {
                    "sha": "9" * 40,
                    "url": f"https://api.github.com/repos/{REPO}/commits/main",
                },
                "protected": repo.protected,
                "protection": {
                    "enabled": repo.protected,
                    "required_status_checks": {
                        "enforcement_level": "non_admins",
                        "contexts": repo.required_checks,
                        "checks": [{"context": c, "app_id": None} for c in repo.required_checks],
                    },
                },
                "protection_url": f"https://api.github.com/repos/{REPO}/branches/main/protection",
            }
        )
        self._membership = _json(load("team_membership_active"))
        self._status_created = load("status_created")
        self._check_run_created = load("check_run_created")
        repo_path = "/repos/" + re.escape(REPO)
        sha = "(?P<sha>[0-9a-f]{40})"
        # (method, path pattern, route class, handler): route classes as app/github/metrics.py
        # names them, plus the few it files under "other".
        table: list[tuple[str, str, str, Handler]] = [
            ("POST", r"/app/installations/(?P<id>\d+)/access_tokens", "token", self._token),
            ("GET", r"/app", "app", lambda m, b: (200, self._app)),
            ("GET", rf"{repo_path}/pulls/(?P<n>\d+)", "pull", self._pull),
            ("GET", rf"{repo_path}/pulls/(?P<n>\d+)/commits", "pull_commits", self._commits),
            ("GET", rf"{repo_path}/pulls/(?P<n>\d+)/files", "pull_files", self._files_of),
            ("GET", rf"{repo_path}/pulls/(?P<n>\d+)/reviews", "pull_reviews", self._reviews),
            ("GET", rf"{repo_path}/commits/{sha}/check-runs", "check_runs", self._checks),
            ("GET", rf"{repo_path}/commits/{sha}/status", "combined_status", self._status),
            (
                "GET",
                r"/orgs/acme/teams/(?P<team>[^/]+)/memberships/(?P<login>[^/]+)",
                "team_membership",
                self._member,
            ),
            ("GET", r"/users/(?P<login>[^/]+)", "user", self._user),
            # No policy file in the repository nor in the organisation's .github: the defaults.
            ("GET", r"/repos/[^/]+/[^/]+/contents/\.github/hotfix-lane\.yml", "contents", _404),
            ("GET", rf"{repo_path}/branches/main", "branch", lambda m, b: (200, self._branch)),
            ("GET", rf"{repo_path}/rules/branches/main", "rules", lambda m, b: (200, self._rules)),
            ("POST", rf"{repo_path}/statuses/{sha}", "status_write", self._set_status),
            ("POST", rf"{repo_path}/check-runs", "check_run_write", self._create_run),
            ("PATCH", rf"{repo_path}/check-runs/(?P<id>\d+)", "check_run_write", self._update_run),
        ]
        self._table = [
            (method, re.compile(f"{pattern}$"), name, handler)
            for method, pattern, name, handler in table
        ]

    def add_pull(self, pr: dict[str, Any]) -> None:
        """``pr`` is what ``GET /pulls/{number}`` answers from now on."""
        with self._lock:
            self._pulls[int(pr["number"])] = _json(pr)

    def answer(self, method: str, path: str, body: bytes) -> Reply:
        path = path.partition("?")[0].removeprefix("/api/v3")
        for route_method, pattern, name, handler in self._table:
            if route_method == method and (match := pattern.match(path)):
                with self._lock:
                    self.requests[name] += 1
                return handler(match, body)
        with self._lock:
            self.unknown[f"{method} {path}"] += 1
        return NOT_FOUND

    # --- replies ----------------------------------------------------------------------------------

    def _token(self, match: re.Match[str], body: bytes) -> Reply:
        # githubkit measures the lifetime against the real clock.
        expires = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 201, _json(load("access_token") | {"token": "ghs_bench", "expires_at": expires})

    def _pull(self, match: re.Match[str], body: bytes) -> Reply:
        with self._lock:
            pr = self._pulls.get(int(match["n"]))
        return (200, pr) if pr is not None else NOT_FOUND

    def _commits(self, match: re.Match[str], body: bytes) -> Reply:
        return 200, _json([commit_entry(COMPLIANT_MESSAGE, sha=head_sha(int(match["n"])))])

    def _files_of(self, match: re.Match[str], body: bytes) -> Reply:
        return 200, self._files

    def _reviews(self, match: re.Match[str], body: bytes) -> Reply:
        review = review_entry("alice") | {"commit_id": head_sha(int(match["n"]))}
        return 200, _json([review])

    def _checks(self, match: re.Match[str], body: bytes) -> Reply:
        runs = [run | {"head_sha": match["sha"]} for run in self._check_run_entries]
        return 200, _json({"total_count": len(runs), "check_runs": runs})

    def _status(self, match: re.Match[str], body: bytes) -> Reply:
        # As the scenario answers: no commit statuses on the head.
        return 200, _json(
            {"state": "success", "sha": match["sha"], "total_count": 0, "statuses": []}
        )

    def _member(self, match: re.Match[str], body: bytes) -> Reply:
        if match["login"] in self._teams.get(match["team"], set()):
            return 200, self._membership
        return NOT_FOUND

    def _user(self, match: re.Match[str], body: bytes) -> Reply:
        user = load("user") | {"login": match["login"], "name": None, "email": None}
        return 200, _json(user)

    def _set_status(self, match: re.Match[str], body: bytes) -> Reply:
        arrived = time.perf_counter()
        sent = json.loads(body)
        with self._lock:
            self.statuses.setdefault(match["sha"], []).append(
                Published(arrived, sent["state"], sent.get("description") or "")
            )
        reply = copy.deepcopy(self._status_created)
        reply.update(state=sent["state"], description=sent.get("description"))
        return 201, _json(reply)

    def _create_run(self, match: re.Match[str], body: bytes) -> Reply:
        sent = json.loads(body)
        with self._lock:
            self._next_run_id += 1
            run = copy.deepcopy(self._check_run_created)
            run.update({k: v for k, v in sent.items() if k != "output"}, id=self._next_run_id)
            self._runs[run["id"]] = run
            self.check_runs.setdefault(sent["head_sha"], []).append(sent.get("conclusion"))
        return 201, _json(run)

    def _update_run(self, match: re.Match[str], body: bytes) -> Reply:
        sent = json.loads(body)
        with self._lock:
            run = self._runs.get(int(match["id"]))
            if run is None:
                return NOT_FOUND
            run.update({k: v for k, v in sent.items() if k != "output"})
            self.check_runs.setdefault(run["head_sha"], []).append(run.get("conclusion"))
        return 200, _json(run)

    # --- what the bench reads ---------------------------------------------------------------------

    def first_status(self, sha: str) -> Published | None:
        with self._lock:
            published = self.statuses.get(sha)
            return published[0] if published else None

    def has_check_run(self, sha: str) -> bool:
        with self._lock:
            return sha in self.check_runs

    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values()) + sum(self.unknown.values())

    def counts(self) -> Counter[str]:
        with self._lock:
            return self.requests + self.unknown


def _404(match: re.Match[str], body: bytes) -> Reply:
    return NOT_FOUND


@contextmanager
def github_server(github: FakeGitHub) -> Iterator[str]:
    """Serve ``github`` on an ephemeral port of 127.0.0.1; yields the API URL to configure."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as GitHub: the app's pool reuses connections
        disable_nagle_algorithm = True  # headers and body are two writes

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, content = github.answer(self.command, self.path, body)
            self.send_response(status)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(content)))
            self.send_header("x-ratelimit-limit", "5000")
            self.send_header("x-ratelimit-remaining", "4999")
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PATCH = _answer

        def log_message(self, format: str, *args: object) -> None:
            return  # unknown paths are counted and printed at the end instead

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="fake-github", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    finally:
        server.shutdown()
        server.server_close()


# --- the serve process as the kernel sees it ------------------------------------------------------


def cpu_seconds(pid: int) -> tuple[float, float]:
    """utime and stime of the process (every thread of it, live or ended), in seconds: the
    time in its own code and the time the kernel spent on its behalf (sockets, files)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --- the phases -----------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    evaluations: int
    per_second: float
    latencies_ms: list[float]
    cpu_ms_per_eval: float
    # The kernel's part of that CPU (system calls: sockets, the database file, wake-ups).
    kernel_share: float
    requests_per_eval: float
    peak_rss_mb: float
    by_route: dict[str, float]


class Bench:
    def __init__(self, github: FakeGitHub, client: httpx.Client, pid: int) -> None:
        self.github = github
        self.client = client
        self.pid = pid
        self.next_number = FIRST_NUMBER
        self._numbers = threading.Lock()

    def deliver(self) -> tuple[str, float]:
        """A fresh hotfix PR opened: GitHub learns it, then the webhook goes out. Returns its
        head sha and when the POST started."""
        with self._numbers:
            number = self.next_number
            self.next_number += 1
        event = pull_request_event(number)
        self.github.add_pull(event["pull_request"])
        body = _json(event)
        headers = webhook_headers(body, "pull_request", f"bench-{number}", secret=SECRET)
        started = time.perf_counter()
        response = self.client.post("/api/github/webhooks", content=body, headers=headers)
        response.raise_for_status()
        return head_sha(number), started

    def wait_for(self, shas: list[str], deadline: float) -> dict[str, float]:
        """When each sha's status arrived; waits for its check run too (the evaluation's end)."""
        arrived: dict[str, float] = {}
        pending = set(shas)
        while pending:
            for sha in list(pending):
                status = self.github.first_status(sha)
                if status is not None and self.github.has_check_run(sha):
                    arrived[sha] = status.at
                    pending.discard(sha)
            if not pending:
                break
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"{len(pending)} of {len(shas)} PRs got no status and check run in time; "
                    f"unknown paths: {dict(self.github.unknown)}"
                )
            time.sleep(0.001)  # polling the fake's record, with a deadline
        return arrived

    def warm_up(self) -> float:
        """Deliver the warm-up PRs one at a time; the first one's event to status, in ms (the
        cold evaluation: what a process pays for its first job)."""
        first: float | None = None
        for _ in range(WARM_UP):
            sha, started = self.deliver()
            arrived = self.wait_for([sha], time.monotonic() + 30)[sha]
            first = (arrived - started) * 1000 if first is None else first
        assert first is not None
        return first

    def measure(self, name: str, run: Callable[[], list[tuple[str, float, float]]]) -> Phase:
        """Run a phase (``run`` returns each PR's sha, POST start and status arrival)."""
        (user, kernel), counts = cpu_seconds(self.pid), self.github.counts()
        results = run()
        time.sleep(0.05)  # the jobs end (marked done) just after their check run
        user_after, kernel_after = cpu_seconds(self.pid)
        user, kernel = user_after - user, kernel_after - kernel
        counts = self.github.counts() - counts
        cpu = user + kernel
        n = len(results)
        first_post = min(started for _, started, _ in results)
        last_status = max(arrived for _, _, arrived in results)
        return Phase(
            name=name,
            evaluations=n,
            per_second=n / (last_status - first_post),
            latencies_ms=sorted((arrived - started) * 1000 for _, started, arrived in results),
            cpu_ms_per_eval=cpu * 1000 / n,
            kernel_share=kernel / cpu if cpu else 0.0,
            requests_per_eval=sum(counts.values()) / n,
            peak_rss_mb=peak_rss_mb(self.pid),
            by_route={route: count / n for route, count in sorted(counts.items())},
        )

    def singles(self, count: int) -> list[tuple[str, float, float]]:
        results = []
        for _ in range(count):
            sha, started = self.deliver()
            arrived = self.wait_for([sha], time.monotonic() + 30)[sha]
            results.append((sha, started, arrived))
        return results

    def burst(self, count: int, senders: int) -> list[tuple[str, float, float]]:
        with ThreadPoolExecutor(senders) as pool:
            sent = list(pool.map(lambda _: self.deliver(), range(count)))
        arrived = self.wait_for([sha for sha, _ in sent], time.monotonic() + 120)
        return [(sha, started, arrived[sha]) for sha, started in sent]


# Where a sampled frame's file lies, by the first match: the share of samples that pass through
# each part (inclusive), which is what the profile is stated in.
PROFILE_PARTS = (
    (
        "GitHub request path (githubkit, httpx, httpcore, anyio)",
        ("githubkit", "httpx", "httpcore", "anyio", "sniffio"),
    ),
    ("githubkit schema/model work (pydantic)", ("pydantic",)),
    ("SQLAlchemy / SQLModel", ("sqlalchemy", "sqlmodel")),
    ("sqlite3 round trips", ("sqlite3",)),
    ("JSON", ("json/",)),
    ("token signing (jwt, cryptography)", ("jwt", "cryptography")),
    ("imports", ("<frozen importlib",)),
    ("uvicorn / starlette / fastapi", ("uvicorn", "starlette", "fastapi")),
    ("the app's own code (leaf frames)", ("/app/",)),
)


def record_profile(pid: int, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling ``pid`` (every thread, idle ones left out) until interrupted."""
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--rate", "250", "--format", "raw",
         "--output", str(output), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def summarise_profile(path: Path) -> None:
    """Print the share of samples through each part, and the heaviest leaf functions."""
    total = 0
    through: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaves[frames[-1]] += count
        for name, needles in PROFILE_PARTS:
            files = frames[-1:] if name.startswith("the app") else frames
            if any(needle in frame for frame in files for needle in needles):
                through[name] += count
    if not total:
        print(f"profile {path}: no samples")
        return
    print(f"profile of serve during the phases ({total} samples), share of samples through:")
    for name, _ in PROFILE_PARTS:
        print(f"  {through[name] * 100 / total:5.1f}%  {name}")
    print("heaviest leaf frames:")
    for frame, count in leaves.most_common(15):
        print(f"  {count * 100 / total:5.1f}%  {frame}")


def request_floor_ms(api_url: str, requests: int = 300) -> float:
    """CPU ms of one bare ``httpx.AsyncClient`` GET against the fake on this machine (this
    thread only, the fake's threads not counted): what each of an evaluation's GitHub
    requests costs before githubkit or the app add anything."""
    path = f"{api_url}/repos/{REPO}/pulls/{FIRST_NUMBER}/files?per_page=100"

    async def gets() -> float:
        async with httpx.AsyncClient() as client:
            (await client.get(path)).json()  # the connection opened
            started = time.thread_time()
            for n in range(requests):
                (await client.get(f"{path}&n={n}")).json()
            return (time.thread_time() - started) * 1000 / requests

    return asyncio.run(gets())


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest rank: with fewer than 100 values, p99 is the largest."""
    return sorted_values[max(math.ceil(fraction * len(sorted_values)) - 1, 0)]


def report(phases: list[Phase], targets: dict[str, tuple[str, str, str]]) -> None:
    print(
        f"{'phase':<14}{'evals':>6}{'evals/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU ms/eval':>13}{'GH req/eval':>13}{'peak RSS MB':>13}"
    )
    for p in phases:
        print(
            f"{p.name:<14}{p.evaluations:>6}{p.per_second:>9.1f}"
            f"{statistics.median(p.latencies_ms):>9.1f}{percentile(p.latencies_ms, 0.99):>9.1f}"
            f"{p.cpu_ms_per_eval:>13.1f}{p.requests_per_eval:>13.1f}{p.peak_rss_mb:>13.1f}"
        )
        per_second, p99, cpu = targets[p.name]
        print(f"{'  target':<14}{'':>6}{per_second:>9}{'':>9}{p99:>9}{cpu:>13}")
    for p in phases:
        routes = ", ".join(f"{route} {count:.2f}" for route, count in p.by_route.items())
        print(f"GitHub requests per evaluation ({p.name}): {routes}")
    shares = ", ".join(f"{p.name} {p.kernel_share:.0%}" for p in phases)
    print(f"of the CPU, in the kernel (system calls): {shares}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=60, help="PRs in the burst")
    parser.add_argument("--singles", type=int, default=20, help="PRs delivered one at a time")
    parser.add_argument("--concurrency", type=int, default=4, help="HOTFIX_LANE_WORKER_CONCURRENCY")
    parser.add_argument("--senders", type=int, default=16, help="threads posting the burst")
    parser.add_argument(
        "--poll-seconds",
        type=float,
        help="HOTFIX_LANE_WORKER_POLL_SECONDS (default: the app's own)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the server use every core instead of pinning it to one",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="record serve with py-spy during the phases into this file (raw stacks) and "
        "print where its samples went",
    )
    args = parser.parse_args()
    if args.profile and shutil.which("py-spy") is None:
        parser.error("--profile needs py-spy (pip install py-spy)")
    pin = not args.no_pin and shutil.which("taskset") is not None and (os.cpu_count() or 1) > 1
    if pin:
        # This thread first: the fake's and the senders' threads inherit it.
        os.sched_setaffinity(0, {1})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    github = FakeGitHub()
    with (
        github_server(github) as api_url,
        tempfile.TemporaryDirectory(prefix="hotfix-lane-bench-") as tmp,
    ):
        env = {
            "HOTFIX_LANE_WEBHOOK_SECRET": SECRET,
            "HOTFIX_LANE_DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "HOTFIX_LANE_GITHUB_APP_ID": APP_ID,
            "HOTFIX_LANE_GITHUB_PRIVATE_KEY": pem(key),
            "HOTFIX_LANE_GITHUB_API_URL": api_url,
            "HOTFIX_LANE_LOG_LEVEL": "WARNING",
            "HOTFIX_LANE_WORKER_CONCURRENCY": str(args.concurrency),
        }
        if args.poll_seconds is not None:
            env["HOTFIX_LANE_WORKER_POLL_SECONDS"] = str(args.poll_seconds)
        with (
            serve(env, cwd=Path(tmp)) as (process, base),
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            if pin:
                subprocess.run(
                    ["taskset", "-a", "-p", "-c", "0", str(process.pid)],
                    capture_output=True,
                    check=False,
                )
            bench = Bench(github, client, process.pid)
            cold_ms = bench.warm_up()
            profiler = record_profile(process.pid, args.profile) if args.profile else None
            phases = [
                bench.measure("single", lambda: bench.singles(args.singles)),
                bench.measure(
                    f"burst of {args.burst}", lambda: bench.burst(args.burst, args.senders)
                ),
            ]
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=60)
        floor = request_floor_ms(api_url)
    print(
        f"hotfix-lane serve, SQLite, worker concurrency {args.concurrency}, "
        f"poll {args.poll_seconds if args.poll_seconds is not None else 'default'} s, "
        f"{'pinned to core 0' if pin else 'not pinned'}; {WARM_UP} warm-up PRs, "
        f"installation {INSTALLATION_ID}"
    )
    print(f"first evaluation after the start (cold): {cold_ms:.1f} ms event to status")
    print(
        f"this machine: a bare httpx GET to the fake costs {floor:.2f} ms CPU, so an "
        f"evaluation's {phases[0].requests_per_eval:.0f} requests cost at least "
        f"{floor * phases[0].requests_per_eval:.1f} ms before githubkit and the app"
    )
    report(
        phases,
        {
            "single": ("", "<150", "<=10"),
            f"burst of {args.burst}": (">=50", "<1000", "<=10"),
        },
    )
    final = Counter(
        (published[-1].state, published[-1].description) for published in github.statuses.values()
    )
    print("statuses published (last per head sha):")
    for (state, description), count in final.most_common():
        print(f"  {count:>4} x {state}: {description}")
    conclusions = Counter(runs[-1] for runs in github.check_runs.values())
    print(f"check runs (last conclusion per head sha): {dict(conclusions)}")
    if github.unknown:
        print("unknown paths (answered 404):")
        for path, count in github.unknown.most_common():
            print(f"  {count:>4} x {path}")
    else:
        print("unknown paths: none")
    if args.profile:
        summarise_profile(args.profile)
    ok = {state for state, _ in final} == {"success"} and not github.unknown
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
