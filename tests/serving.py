"""Run the real ``hotfix-lane serve`` in a subprocess, for tests that kill it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    env: dict[str, str], *args: str, cwd: Path, port: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Start ``hotfix-lane serve`` (on ``port``, else a free one) and wait (with a deadline)
    until /healthz answers."""
    port = port or free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HOTFIX_LANE_")}
    # This checkout's code, whichever copy the environment has installed.
    full_env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    full_env.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args],
        env=full_env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise AssertionError(f"serve exited early ({process.returncode}):\n{output}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("serve did not become healthy within 30 s")
            time.sleep(0.05)  # polling a starting process, with a deadline
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()
