"""Rules about the code's shape that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"


def _session_blocks_with_awaits() -> list[str]:
    found = []
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.With | ast.AsyncWith):
                continue
            opens_session = any(
                isinstance(item.context_expr, ast.Call)
                and getattr(item.context_expr.func, "id", None) in {"Session", "session_scope"}
                for item in node.items
            )
            if opens_session and any(isinstance(n, ast.Await) for n in ast.walk(node)):
                found.append(f"{path.relative_to(APP.parent)}:{node.lineno}")
    return found


def test_no_database_session_stays_open_across_an_await() -> None:
    # On SQLite every transaction holds the write lock (BEGIN IMMEDIATE); a session kept open
    # across a call to GitHub or Slack would stall intake and every other job for seconds.
    assert _session_blocks_with_awaits() == []
