"""How a place in a nested document is written: ``rules.diff-size.max_lines``, ``reasons[0]``.

Error messages name the key a person has to fix, in policy files and in audit-log events
alike, and both should read the same way.
"""

from __future__ import annotations

from collections.abc import Sequence


def dotted_path(parts: Sequence[str | int]) -> str:
    """Keys joined with dots, list indexes in brackets; empty for the document itself."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
