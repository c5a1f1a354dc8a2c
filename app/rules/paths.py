"""Path globs of the policy (``**/tests/**``, ``*.lock``) and the top-level directory of a path.

``fnmatch`` lets ``*`` cross ``/`` and has no ``**``, so policy globs are translated here with
the rules people know from ``.gitignore``: ``**`` spans directories, ``*`` stays within one, and
a glob without ``/`` matches a file name at any depth (``go.sum`` matches ``svc/go.sum``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import re2

ROOT_GROUP = "(root)"


@lru_cache(maxsize=256)
def glob_regex(glob: str) -> Any:
    """Compile one policy glob to an anchored regular expression over a repo-relative path.

    On RE2: a glob comes from a policy file, and ``*a*a*a*a*b`` on Python's backtracking
    engine takes seconds on one long path.
    """
    pattern = glob if "/" in glob else f"**/{glob}"
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re2.compile("".join(out) + r"\z")


def matches_any(path: str, globs: Iterable[str]) -> bool:
    return any(glob_regex(glob).match(path.lstrip("/")) for glob in globs)


def top_level(path: str) -> str:
    """The first directory of a path; files at the repository root share one group."""
    head, sep, _ = path.lstrip("/").partition("/")
    return head if sep else ROOT_GROUP
