"""``hotfix-lane worker --metrics-port``: the worker answers probes and scrapes of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.serving import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_the_worker_serves_health_readiness_and_metrics_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTFIX_LANE_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "HOTFIX_LANE_DATABASE_URL": f"sqlite:///{tmp_path}/hotfix-lane.db",
        "HOTFIX_LANE_WORKER_POLL_SECONDS": "0.05",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--metrics-port", str(port),
         "--metrics-host", "127.0.0.1"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the worker's port did not answer in 30 s"
            time.sleep(0.05)  # polling another process, with a deadline

        assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
        scrape = httpx.get(f"{base}/metrics").text
        for name in (
            "hotfix_lane_build_info{",
            "hotfix_lane_outbox_depth ",
            "hotfix_lane_queue_depth ",
            "hotfix_lane_oldest_pending_job_seconds ",
        ):
            assert name in scrape, name
        assert httpx.get(f"{base}/api/github/webhooks").status_code == 404  # probes only
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
