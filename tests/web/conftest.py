"""Fixtures for the web view's tests: the real app in a subprocess, and a headless browser.

``served_app`` runs ``hotfix-lane serve`` against the shared fake GitHub served over HTTP
(``github_over_http``), so the browser, the app and the fake talk as they would in production.
Its environment is the App's settings plus ``served_app_env``, which a test overrides, e.g.::

    @pytest.mark.parametrize("served_app_env", [{"HOTFIX_LANE_WEB_AUTH": "none"}])
    async def test_pages(served_app: str, browser_page: Page) -> None: ...

or, for sign-in with GitHub, ``SIGN_IN_ENV`` with ``fake_github.oauth(client_id=CLIENT_ID,
client_secret=CLIENT_SECRET, users=...)``.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import SECRET
from tests.fakes.github import APP_ID, FakeGitHub, load, pem
from tests.fakes.github_server import github_over_http
from tests.serving import free_port, serve
from tests.web.browser import browser_page as browser_page

# The App's OAuth credentials (its client id is the one app.json shows).
CLIENT_ID: str = load("app")["client_id"]
CLIENT_SECRET = "test-oauth-client-secret-5d2a"
SESSION_SECRET = "test-session-secret-b7e4c1"
SIGN_IN_ENV = {
    "HOTFIX_LANE_WEB_AUTH": "github",
    "HOTFIX_LANE_GITHUB_CLIENT_ID": CLIENT_ID,
    "HOTFIX_LANE_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
    "HOTFIX_LANE_SESSION_SECRET": SESSION_SECRET,
}


@pytest.fixture
def served_app_env() -> Mapping[str, str]:
    """Environment variables added to (or replacing) ``served_app``'s; override it."""
    return {}


@pytest.fixture
def served_app_database_url(tmp_path: Path) -> str:
    """The served app's SQLite database (migrated when it starts), for a test to seed."""
    return f"sqlite:///{tmp_path}/hotfix-lane.db"


@pytest.fixture
def served_app(
    fake_github: FakeGitHub,
    app_key: rsa.RSAPrivateKey,
    tmp_path: Path,
    served_app_env: Mapping[str, str],
    served_app_database_url: str,
) -> Iterator[str]:
    """The real ``hotfix-lane serve`` on a free port; yields its base URL (no trailing ``/``).

    Its output is printed when it stops, so a failing test shows the app's log.
    """
    port = free_port()
    with github_over_http(fake_github) as api_url:
        env = {
            # The Details links of statuses and check runs point at this address.
            "HOTFIX_LANE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "HOTFIX_LANE_WEBHOOK_SECRET": SECRET,
            "HOTFIX_LANE_DATABASE_URL": served_app_database_url,
            "HOTFIX_LANE_WORKER_POLL_SECONDS": "0.05",
            "HOTFIX_LANE_GITHUB_APP_ID": APP_ID,
            "HOTFIX_LANE_GITHUB_PRIVATE_KEY": pem(app_key),
            "HOTFIX_LANE_GITHUB_API_URL": api_url,
        } | dict(served_app_env)
        with serve(env, cwd=tmp_path, port=port) as (process, base):
            # Read the log as it comes: one request a line fills the pipe in a long test,
            # and a full pipe would stop the app mid-request.
            lines: list[bytes] = []
            reader = threading.Thread(target=_read_into, args=(process, lines), daemon=True)
            reader.start()
            try:
                yield base
            finally:
                _stop(process)
                reader.join(5)
                print(f"--- hotfix-lane serve ({process.returncode}) ---")
                print(b"".join(lines).decode(errors="replace"))


def _read_into(process: subprocess.Popen[bytes], lines: list[bytes]) -> None:
    assert process.stdout is not None
    lines.extend(iter(process.stdout.readline, b""))


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the app as ``serve`` would, before it closes the pipe the log is read from."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
