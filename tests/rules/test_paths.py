from __future__ import annotations

import pytest

from app.rules.paths import matches_any, top_level

GLOBS = [
    pytest.param("go.sum", "go.sum", True, id="a bare name matches at the root"),
    pytest.param("go.sum", "svc/api/go.sum", True, id="a bare name matches at any depth"),
    pytest.param("*.lock", "web/yarn.lock", True, id="a bare star glob matches at any depth"),
    pytest.param("*.lock", "web/yarn.lock.bak", False, id="a glob is anchored at the end"),
    pytest.param("tests/**", "tests/a/b.py", True, id="a double star spans directories"),
    pytest.param(
        "tests/**", "svc/tests/a.py", False, id="a glob with a slash is anchored at the root"
    ),
    pytest.param("**/tests/**", "tests/a.py", True, id="a leading double star may match nothing"),
    pytest.param(
        "**/tests/**", "svc/x/tests/a.py", True, id="a leading double star spans directories"
    ),
    pytest.param("src/*.py", "src/a/b.py", False, id="a single star stays within one directory"),
    pytest.param("file?.txt", "file1.txt", True, id="a question mark matches one character"),
    pytest.param("file?.txt", "file/.txt", False, id="a question mark never matches a slash"),
    pytest.param("a+b.c", "a+b.c", True, id="regex characters are literal"),
]


@pytest.mark.parametrize(("glob", "path", "expected"), GLOBS)
def test_globs(glob: str, path: str, expected: bool) -> None:
    assert matches_any(path, [glob]) is expected


@pytest.mark.parametrize(
    ("path", "group"),
    [
        pytest.param(
            "services/catalog/a.go", "services", id="a nested file belongs to its first directory"
        ),
        pytest.param("go.mod", "(root)", id="a root file belongs to the root group"),
    ],
)
def test_top_level(path: str, group: str) -> None:
    assert top_level(path) == group
