"""Rules about the code's shape that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
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


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command;"
            " sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )


def test_imports_run_one_way_through_the_layers() -> None:
    result = _lint_imports(APP.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.lower().replace("0 broken", "")


def test_a_backward_import_breaks_the_build(tmp_path: Path) -> None:
    # The store is near the bottom; importing a domain from it must fail the contracts.
    shutil.copytree(APP, tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(APP.parent / "pyproject.toml", tmp_path / "pyproject.toml")
    db = tmp_path / "app" / "store" / "db.py"
    db.write_text(db.read_text() + "\nimport app.lane.evaluation  # noqa: E402, F401\n")

    result = _lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "app.store.db -> app.lane.evaluation" in result.stdout
