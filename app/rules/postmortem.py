"""Does a postmortem have the hotfix-specific sections of runbook step 8?

Why a hotfix was needed, whether the bypass was justified, whether the breakglass role was
used, and the cleanup PR's status. Each required section is a few words that must all appear
in one heading of the document, in any case and with any punctuation around them, so
"## Why was a hotfix needed?" satisfies "why hotfix".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# A postmortem is a few pages; past this the rest is not read for headings.
MAX_CHARACTERS = 512 * 1024

_SETEXT = re.compile(r"^ {0,3}(=+|-+)\s*$")
_SPELLINGS = (
    (re.compile(r"break[\s-]+glass", re.IGNORECASE), "breakglass"),
    (re.compile(r"clean[\s-]+up", re.IGNORECASE), "cleanup"),
    (re.compile(r"post[\s-]+mortem", re.IGNORECASE), "postmortem"),
)


def _words(text: str) -> frozenset[str]:
    for pattern, spelling in _SPELLINGS:
        text = pattern.sub(spelling, text)
    return frozenset(re.findall(r"[a-z0-9]+", text.lower()))


def headings(markdown: str) -> list[str]:
    """The text of every ATX (``## Title``) and setext (underlined) heading."""
    lines = markdown[:MAX_CHARACTERS].splitlines()
    found: list[str] = []
    for index, line in enumerate(lines):
        text = _atx_text(line)
        if text:
            found.append(text)
        elif index and _SETEXT.match(line) and lines[index - 1].strip():
            found.append(lines[index - 1].strip())
    return found


def _atx_text(line: str) -> str | None:
    """The text of an ATX heading (``## Title ##``), or None; linear in the line's length
    (a heading is written by whoever writes the postmortem)."""
    if len(line) - len(line.lstrip(" ")) > 3:
        return None
    rest = line.lstrip(" ")
    level = len(rest) - len(rest.lstrip("#"))
    if not 1 <= level <= 6 or len(rest) == level or not rest[level].isspace():
        return None
    text = rest[level:].strip().rstrip("#").strip()
    return text or None


def missing_sections(markdown: str, sections: Sequence[str]) -> list[str]:
    """The required sections no heading of ``markdown`` covers, in the order given."""
    heads: Iterable[frozenset[str]] = [_words(heading) for heading in headings(markdown)]
    heads = list(heads)
    return [section for section in sections if not any(_words(section) <= head for head in heads)]
