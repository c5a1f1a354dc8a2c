"""recovery: did the symptom metric recover after the hotfix shipped (runbook step 6, "verify")?

Three pure pieces of the verify step: the policy's PromQL template filled in for one hotfix,
the judgement of Prometheus's answer against the threshold, and the value as people read it.
Asking Prometheus, and when, is the caller's business.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence

# `{{ repo }}`, `{{name}}`, ...: one pass over the template, so a value that itself looks like
# a placeholder is never expanded again. Anything else in double braces stays as written: it
# may be a typo the query's author should see in Prometheus's error, not a silent "".
_PLACEHOLDER = re.compile(r"\{\{\s*(repo|name|sha)\s*\}\}")

# Inside a PromQL double-quoted string (Go's escaping), these would end the literal or start an
# escape. A raw newline is a parse error ("unterminated quoted string"), so it is escaped too.
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def render_query(template: str, *, repo: str, sha: str) -> str:
    """The verify query for one hotfix: ``{{ repo }}`` (owner/name), ``{{ name }}`` and
    ``{{ sha }}`` filled in, escaped for a PromQL double-quoted string.

    Templates put these inside label matchers (``{repo="{{ repo }}"}``); escaping means a
    repository name can never close the string and add matchers or operators of its own.
    """
    values = {"repo": repo, "name": repo.rpartition("/")[2], "sha": sha}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)].translate(_ESCAPES), template)


def crossed(values: Sequence[float], threshold: float, comparison: str) -> bool:
    """Whether every series compares to the threshold as the policy says (recovered).

    Every series, not any: a symptom that cleared in one region but not another has not
    recovered. No series at all proves nothing, and NaN or an infinity (a ratio over zero
    traffic, say) is no evidence of recovery either way, so each of those is "not yet".
    """
    try:
        compare = _COMPARE[comparison]
    except KeyError:
        raise ValueError(f"unknown comparison {comparison!r}; use <, <=, > or >=") from None
    return bool(values) and all(
        math.isfinite(value) and compare(value, threshold) for value in values
    )


def format_value(value: float) -> str:
    """A value as people read it in a check run or a notice: ``0.0042``, ``12.5``, ``NaN``.

    Four significant digits are plenty to compare with a threshold; NaN and the infinities
    are spelt as Prometheus spells them, so the text matches what its UI shows.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"
