"""The rules are pure: nothing under app/rules may import a module that does I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).resolve().parents[2] / "app" / "rules"

# Standard-library modules that compute without touching files, network, processes or the clock.
PURE_STDLIB = {
    "__future__",
    "collections",
    "collections.abc",
    "dataclasses",
    "datetime",  # the type only: rules receive `now`, and a test below forbids reading the clock
    "difflib",
    "enum",
    "functools",
    "itertools",
    "math",
    "operator",
    "re",
    "re2",  # google-re2 runs the patterns of policy files: computation only, like re
    "string",
    "textwrap",
    "types",
    "typing",
}
ALLOWED_PREFIXES = ("app.rules", "app.policy.model")
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic"}


def _modules() -> list[Path]:
    return sorted(RULES_DIR.glob("*.py"))


def _imports(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            # `from app.rules import text` imports app.rules.text.
            names += [
                f"{base}.{alias.name}" if base == "app.rules" else base for alias in node.names
            ]
    return names


def _allowed(name: str) -> bool:
    return name in PURE_STDLIB or any(
        name == prefix or name.startswith(prefix + ".") for prefix in ALLOWED_PREFIXES
    )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: f"{p.name} imports only pure modules")
def test_rule_modules_import_nothing_that_does_io(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    assert [name for name in _imports(tree) if not _allowed(name)] == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: f"{p.name} never reads the clock")
def test_rule_modules_never_read_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]
    assert [name for name in calls if name in CLOCK_CALLS] == []


def test_the_policy_model_is_pure_too() -> None:
    # Rules import app.policy.model, so it must not pull in the loader (which reads files).
    path = RULES_DIR.parent / "policy" / "model.py"
    imports = _imports(ast.parse(path.read_text()))
    # re2 (google-re2) runs the policy's own patterns: computation only, like re.
    impure = [n for n in imports if not (_allowed(n) or n.startswith("pydantic") or n == "re2")]
    assert impure == []


def test_the_checker_notices_an_io_import() -> None:
    tree = ast.parse("import subprocess\nfrom app.policy.loader import load_policy\n")
    assert [n for n in _imports(tree) if not _allowed(n)] == ["subprocess", "app.policy.loader"]
