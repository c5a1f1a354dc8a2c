"""The wheel carries what the installed app reads: its policy files, pages and migrations.

A plain ``pip install .`` (not editable) must find ``policies/default.yml`` and the schema:
they ship inside the package as ``app/policy/shipped/``.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_the_policy_files_pages_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("hotfix_lane-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())

    shipped = {
        "app/policy/shipped/default.yml",
        "app/policy/shipped/schema.json",
        "app/web/templates/dashboard.html",
        "app/web/templates/pull.html",
        "app/web/static/style.css",
        "app/store/migrations/env.py",
    }
    assert shipped <= names, sorted(shipped - names)
    assert any(name.startswith("app/store/migrations/versions/") for name in names)
    default = zipfile.ZipFile(wheel).read("app/policy/shipped/default.yml").decode()
    assert default == (ROOT / "policies" / "default.yml").read_text(encoding="utf-8")
