"""Webhook intake benchmark: durable deliveries per second against the real ``serve``.

Starts ``hotfix-lane serve --no-worker`` (one uvicorn process, SQLite in a temporary folder),
drives it with ``wrk`` at each concurrency with a signed, real-shaped pull_request payload and
a fresh ``X-GitHub-Delivery`` per request, then checks that every delivery answered 2xx is a
row in the database. Run on demand, never in the test suite:

    apt-get install wrk      # once
    python bench/intake.py --duration 10 --concurrency 8 64

The server is pinned to one core (``taskset``) when possible and wrk to the other, so the
figure is "per uvicorn worker on one core".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.intake.signature import sign  # noqa: E402
from tests.serving import serve  # noqa: E402

SECRET = "bench-webhook-secret"

LUA = r"""
local counter = 0
local prefix = ""
local ids = nil

function setup(thread)
  thread:set("tid", tostring(math.random(1, 1e9)))
end

function init(args)
  prefix = "bench-" .. tid .. "-"
  ids = io.open(args[1] .. "/ids-" .. tid .. ".txt", "w")
  ids:setvbuf("line")
end

function request()
  counter = counter + 1
  wrk.headers["X-GitHub-Delivery"] = prefix .. counter
  return wrk.format("POST", "/api/github/webhooks", nil, wrk.body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    local id = string.match(body, '"delivery":"([^"]+)"')
    if id then ids:write(id, "\n") end
  end
end
"""


def payload() -> bytes:
    fixture = ROOT / "tests" / "fixtures" / "webhooks" / "pull_request.opened.json"
    return json.dumps(json.loads(fixture.read_text())).encode()


def run_wrk(
    base: str, body: bytes, connections: int, duration: int, workdir: Path
) -> dict[str, float]:
    script = workdir / "intake.lua"
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
    }
    lua = LUA + f"\nwrk.method = 'POST'\nwrk.body = {json.dumps(body.decode())}\n"
    lua += "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
    script.write_text(lua)
    threads = min(2, connections)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(script),
        base,
        "--",
        str(workdir),
    ]
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        command = ["taskset", "-c", "1", *command]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return {
        "requests": requests,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",  # type: ignore[dict-item]
        "p50_ms": _ms(p50),
        "p99_ms": _ms(p99),
        "rps": rps,
    }


def _ms(match: re.Match[str] | None) -> float:
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def bench(concurrency: int, duration: int, body: bytes, *, pin: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="hotfix-lane-bench-") as tmp:
        workdir = Path(tmp)
        db = workdir / "bench.db"
        env = {
            "HOTFIX_LANE_WEBHOOK_SECRET": SECRET,
            "HOTFIX_LANE_DATABASE_URL": f"sqlite:///{db}",
            "HOTFIX_LANE_LOG_LEVEL": "WARNING",
        }
        with serve(env, "--no-worker", cwd=workdir) as (process, base):
            if pin and shutil.which("taskset") and (os.cpu_count() or 1) > 1:
                subprocess.run(
                    ["taskset", "-a", "-p", "-c", "0", str(process.pid)],
                    capture_output=True,
                    check=False,
                )
            # Warm up (imports, first connections, SQLite page cache).
            for i in range(200):
                httpx.post(
                    f"{base}/api/github/webhooks",
                    content=body,
                    headers={
                        "X-GitHub-Event": "pull_request",
                        "X-GitHub-Delivery": f"warm-{i}",
                        "X-Hub-Signature-256": sign(SECRET.encode(), body),
                    },
                )
            result = run_wrk(base, body, concurrency, duration, workdir)
            time.sleep(0.5)  # let the last in-flight requests finish before counting
        answered: set[str] = set()
        for ids in workdir.glob("ids-*.txt"):
            answered.update(line for line in ids.read_text().splitlines() if line)
        with sqlite3.connect(db) as conn:
            stored = {
                row[0] for row in conn.execute("SELECT id FROM delivery WHERE id LIKE 'bench-%'")
            }
            job_refs = {
                row[0]
                for row in conn.execute(
                    "SELECT ref FROM job WHERE kind = 'delivery' AND key LIKE 'delivery:bench-%'"
                )
            }
    missing = answered - stored
    return {
        "concurrency": concurrency,
        **result,
        "answered_2xx": len(answered),
        "rows_stored": len(stored),
        "jobs_stored": len(job_refs),
        "answered_but_missing": len(missing),
        # A 2xx means the delivery AND its job were committed.
        "answered_without_job": len(answered - job_refs),
        # wrk abandons the requests in flight when its time is up; the server may store them.
        "stored_unanswered": len(stored - answered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 64])
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the server use every core instead of pinning it to one",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.stderr.write("wrk is not installed (apt-get install wrk)\n")
        return 2
    body = payload()
    print(f"payload: pull_request.opened, {len(body)} bytes; duration {args.duration}s")
    ok = True
    for c in args.concurrency:
        r = bench(c, args.duration, body, pin=not args.no_pin)
        print(
            f"c={c:<3} {r['rps']:>8.0f} deliveries/s  p50 {r['p50_ms']:.2f} ms  "
            f"p99 {r['p99_ms']:.2f} ms  2xx {r['answered_2xx']}  rows {r['rows_stored']}  "
            f"jobs {r['jobs_stored']}  non-2xx {r['non_2xx']}  socket errors {r['socket_errors']}"
            f"  answered-but-missing {r['answered_but_missing']}"
            f"  answered-without-job {r['answered_without_job']}"
            f"  stored-unanswered {r['stored_unanswered']}"
        )
        ok = (
            ok
            and r["answered_but_missing"] == 0
            and r["answered_without_job"] == 0
            and r["rows_stored"] == r["jobs_stored"]
        )
    print("every 2xx delivery stored with its job" if ok else "MISMATCH: see above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
