"""The real ``hotfix-lane serve``: intake and worker in one process, and a clean stop."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import Session

from app.jobs import queue
from app.store.db import make_engine
from tests.conftest import SECRET, load_fixture, webhook_headers
from tests.fakes.github import APP_ID, FakeGitHub, load, pem, reply
from tests.fakes.github_server import github_over_http
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
        # A graceful stop is a success: exit status 0, not the signal uvicorn caught.
        assert process.wait(20) == 0
        assert process.stdout is not None
        output = process.stdout.read().decode()
        assert "worker " in output and " stopped" in output
    engine.dispose()


def test_a_stop_after_talking_to_github_closes_every_connection_on_its_own_loop(
    tmp_path: Path, fake_github: FakeGitHub, app_key: rsa.RSAPrivateKey
) -> None:
    # The worker's gateway opens keep-alive connections on the worker thread's loop; they must
    # be closed there, not from the server's loop after the worker's has gone.
    fake_github.token()
    fake_github.router.route().mock(return_value=reply(load("not_found"), status=404))
    url = f"sqlite:///{tmp_path}/hotfix-lane.db"
    body = json.dumps(load_fixture("pull_request.opened")).encode()
    engine = make_engine(url)

    with github_over_http(fake_github) as api_url:
        env = {
            "HOTFIX_LANE_WEBHOOK_SECRET": SECRET,
            "HOTFIX_LANE_DATABASE_URL": url,
            "HOTFIX_LANE_WORKER_POLL_SECONDS": "0.05",
            "HOTFIX_LANE_GITHUB_APP_ID": APP_ID,
            "HOTFIX_LANE_GITHUB_PRIVATE_KEY": pem(app_key),
            "HOTFIX_LANE_GITHUB_API_URL": api_url,
        }
        with serve(env, cwd=tmp_path) as (process, base):
            response = httpx.post(
                f"{base}/api/github/webhooks",
                content=body,
                headers=webhook_headers(body, "pull_request", delivery="serve-gh-1"),
            )
            assert response.status_code == 202
            deadline = time.monotonic() + 20
            attempts = 0
            while time.monotonic() < deadline and attempts == 0:
                with Session(engine) as session:
                    job = queue.get(session, key="delivery:serve-gh-1")
                    attempts = job.attempts if job and job.status != "running" else 0
                time.sleep(0.05)  # polling another process, with a deadline
            assert attempts >= 1, "the worker never tried the delivery"
            assert any("/pulls/4321/" in request for request in fake_github.requests)

            process.send_signal(signal.SIGTERM)
            assert process.wait(20) == 0
            assert process.stdout is not None
            output = process.stdout.read().decode()
    engine.dispose()

    assert "Application shutdown complete" in output
    assert "hotfix-lane stopped" in output
    for trouble in ("Traceback", "Event loop is closed", "shutdown failed"):
        assert trouble not in output, output
