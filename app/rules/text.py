"""Parsing of the free text the runbook asks people to write: ids, handles, task lists, links.

Everything here takes strings and returns strings, so each rule reads the same line the same
way (an approver named in a way one rule accepts is accepted by every rule).
"""

from __future__ import annotations

import re
from functools import lru_cache

from app.policy.model import incident_regex

# A GitHub login: letters, digits and single inner hyphens, at most 39 characters. The lookahead
# refuses team mentions (@org/team) and a login cut short.
_LOGIN = r"@(?P<login>[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38})(?![A-Za-z0-9/-])"
_TASK = re.compile(r"^\s*[-*+]\s+\[(?P<mark>[ xX])\]\s*(?P<text>.*)$")
# "#4321", "acme/api#4321" or ".../pull/4321"; "&#39;" (an HTML entity) is not a reference.
# "owner/repo" starts only where a run of name characters starts: tried from inside every run,
# a 64 KiB body of letters costs seconds of backtracking (quadratic).
_PR_REFERENCE = re.compile(r"(?<![\w&])#\d+\b|(?<![\w.-])[\w.-]+/[\w.-]+#\d+\b|/pull/\d+\b")
_ROLLBACK = re.compile(r"roll[\s-]?back", re.IGNORECASE)
_CO_AUTHOR = re.compile(r"^\s*co-authored-by\s*:\s*(?P<value>\S.*)$", re.IGNORECASE)
_IDENTITY = re.compile(r"^(?P<name>[^<>]*)<(?P<email>[^<>]*)>$")
# GitHub's no-reply address: "12345+login@..." since 2017, "login@..." before.
_NOREPLY = re.compile(
    r"^(?:\d+\+)?(?P<login>[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38})@users\.noreply\.github\.com$",
    re.IGNORECASE,
)


def incident_ids(text: str, pattern: str) -> list[str]:
    """The distinct incident ids in ``text``, in order of appearance.

    The pattern comes from a policy file, so it runs on RE2 (``app.policy.model``), matched as
    a whole token (so ...-0012 is not ...-001); the patterns of this module are ours.
    """
    return list(dict.fromkeys(incident_regex(pattern).tokens(text)))


@lru_cache(maxsize=32)
def _field_regex(key: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(key)}\s*:\s*{_LOGIN}", re.IGNORECASE)


def named_logins(text: str, key: str, limit: int | None = None) -> list[str]:
    """The distinct logins on ``key: @login`` lines, lower-cased, in order; the first
    ``limit`` of them when given.

    Leading list markers and Markdown emphasis are ignored, so ``- **Approver:** @alice`` in a PR
    body reads like ``approver: @alice`` in a commit message. Text after the login is allowed
    (the runbook's own example: ``cleanup: @bob will open follow-up PR``).
    """
    found: dict[str, None] = {}
    for line in text.splitlines():
        if limit is not None and len(found) >= limit:
            break
        plain = line.replace("*", "").strip().lstrip("-+> \t")
        match = _field_regex(key).match(plain)
        if match:
            found[match.group("login").lower()] = None
    return list(found)


def checked_items(body: str) -> list[str]:
    """The text of every ticked Markdown task-list item (``- [x]`` / ``* [X]``)."""
    items = (_TASK.match(line) for line in body.splitlines())
    return [item.group("text") for item in items if item and item.group("mark") in "xX"]


def mentions_flag(text: str) -> bool:
    return "flag" in text.lower()


def mentions_rollback(text: str) -> bool:
    return _ROLLBACK.search(text) is not None


def pull_request_numbers(text: str, repo_full_name: str) -> list[int]:
    """The numbers of the pull requests of ``repo_full_name`` that ``text`` points at.

    ``#4321`` and ``/pull/4321`` are taken as this repository's; ``org/repo#4321`` only when it
    names this repository.
    """
    numbers: list[int] = []
    for match in _PR_REFERENCE.finditer(text):
        found = match.group(0)
        named, _, number = found.rpartition("#") if "#" in found else ("", "", found)
        if named and named.lower() != repo_full_name.lower():
            continue
        numbers.append(int(number.rsplit("/", 1)[-1]))
    return list(dict.fromkeys(numbers))


def mentions_pull_request(text: str) -> bool:
    """Whether ``text`` points at a pull request (``#4321``, ``org/repo#4321`` or a PR URL)."""
    return _PR_REFERENCE.search(text) is not None


def co_author_trailers(message: str) -> tuple[str, ...]:
    """The values of a commit message's ``Co-authored-by:`` lines, as written, in order.

    git and GitHub read trailers only in the last paragraph; any line is taken here, so a
    co-author cannot be hidden from the approver check by where the line stands.
    """
    found = (_CO_AUTHOR.match(line) for line in message.splitlines())
    return tuple(match.group("value").strip() for match in found if match)


def identity(value: str) -> tuple[str, str | None]:
    """A ``Name <e-mail>`` trailer value as ``(name, e-mail)``; the e-mail lower-cased, and
    ``None`` when there is no ``<...>``."""
    match = _IDENTITY.match(value.strip())
    if match is None:
        return value.strip(), None
    return match.group("name").strip(), match.group("email").strip().lower()


def noreply_login(email: str | None) -> str | None:
    """The login GitHub's no-reply address names (``[ID+]login@users.noreply.github.com``),
    lower-cased; ``None`` for any other address."""
    match = _NOREPLY.match(email or "")
    return match.group("login").lower() if match else None


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def handles(logins: list[str] | tuple[str, ...]) -> str:
    """``@a, @b`` for messages."""
    return ", ".join(f"@{login}" for login in logins)


def plural(count: int, word: str) -> str:
    """``1 commit``, ``2 commits``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def one_of(words: list[str] | tuple[str, ...]) -> str:
    """``a``, ``a or b``, ``a, b or c`` for messages."""
    items = list(words)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"
