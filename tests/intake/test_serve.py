"""The real ``hotfix-lane serve``: intake and worker in one process, and a clean stop."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
from sqlmodel import Session

from app.jobs import queue
from app.store.db import make_engine
from tests.conftest import SECRET, webhook_headers
from tests.serving import serve


def test_serve_processes_a_delivery_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hotfix-lane.db"
    env = {
        "HOTFIX_LANE_WEBHOOK_SECRET": SECRET,
        "HOTFIX_LANE_DATABASE_URL": url,
        "HOTFIX_LANE_WORKER_POLL_SECONDS": "0.05",
    }
    body = json.dumps({"action": "started", "repository": {"full_name": "acme/api"}}).encode()
    engine = make_engine(url)

    with serve(env, cwd=tmp_path) as (process, base):
        response = httpx.post(
            f"{base}/api/github/webhooks",
            content=body,
            headers=webhook_headers(body, "watch", delivery="serve-1"),
        )
        assert response.status_code == 202
        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            with Session(engine) as session:
                job = queue.get(session, key="delivery:serve-1")
                status = job.status if job else None
            if status == "done":
                break
            time.sleep(0.05)  # polling another process, with a deadline
        assert status == "done"

        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.wait(20) in (0, -signal.SIGTERM)
        assert process.stdout is not None
        output = process.stdout.read().decode()
        assert "worker " in output and " stopped" in output
    engine.dispose()
