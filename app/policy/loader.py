"""Load the policy: the runbook's defaults, then the organisation's file, then the repository's.

Each file is checked against ``policies/schema.json`` on its own before anything is merged, so an
error names the file the mistake is in (a typo in the organisation's ``.github`` repository should
not be blamed on the repository being evaluated). Mappings merge key by key; lists and single
values replace, so an override can shorten a list as well as lengthen it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import ValidationError

from app.policy.model import Policy

POLICY_DIR = Path(__file__).resolve().parents[2] / "policies"
DEFAULT_SOURCE = "policies/default.yml"
TOP_LEVEL = "(top level)"


class PolicyError(ValueError):
    """A policy file is unusable; says which file, which key, and what is wrong with it.

    ``key`` is the dotted path of the offending key (``rules.diff-size.max_lines``),
    ``(top level)`` for the file as a whole, or ``line N`` for a YAML syntax error.
    """

    def __init__(self, source: str, key: str, message: str) -> None:
        super().__init__(source, key, message)
        self.source = source
        self.key = key
        self.message = message

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}"


def default_policy_text() -> str:
    """The text of ``policies/default.yml``."""
    return (POLICY_DIR / "default.yml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The runbook's defaults with no override (read once per process)."""
    return load_policy([(DEFAULT_SOURCE, default_policy_text())])


def load_policy(layers: Sequence[tuple[str, str | None]]) -> Policy:
    """Merge the present layers (lowest precedence first) into a ``Policy``.

    A layer is ``(source name, text)``; ``None`` text means the file does not exist and is
    skipped. Raises ``PolicyError`` for the first problem found.
    """
    merged: dict[str, Any] = {}
    for source, text in layers:
        if text is None:
            continue
        data, errors = _check_layer(source, text)
        if errors:
            raise errors[0]
        merged = _merge(merged, data)
    present = [source for source, text in layers if text is not None]
    return _to_policy(" + ".join(present) or TOP_LEVEL, merged)


def validate_policy_file(path: Path) -> list[PolicyError]:
    """Every problem in one policy file (an override, or a full policy), for ``validate-config``.

    These are the checks ``load_policy`` runs on each layer, so a file with no errors here loads
    over the defaults. An empty list means the file is valid.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return [PolicyError(source, TOP_LEVEL, f"cannot read the file: {exc.strerror}")]
    except UnicodeDecodeError:
        return [PolicyError(source, TOP_LEVEL, "not UTF-8 text")]
    return _check_layer(source, text)[1]


def _check_layer(source: str, text: str) -> tuple[dict[str, Any], list[PolicyError]]:
    """Parse and validate one file on its own; an empty file is an empty override."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else TOP_LEVEL
        problem = exc.problem or exc.context or "unreadable YAML"
        return {}, [PolicyError(source, where, f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        return {}, [PolicyError(source, TOP_LEVEL, f"YAML syntax error: {detail}")]
    if data is None:
        return {}, []
    errors = [
        error
        for schema_error in sorted(_validator().iter_errors(data), key=_error_order)
        for error in _explain(source, schema_error)
    ]
    if not errors:
        errors = _pattern_errors(source, data)
    return (data if isinstance(data, dict) else {}), errors


def _pattern_errors(source: str, data: Mapping[str, Any]) -> list[PolicyError]:
    # JSON Schema's "format: regex" means ECMA-262; the rules compile the pattern with Python.
    pattern = data.get("incident", {}).get("pattern")
    if pattern is None:
        return []
    try:
        re.compile(pattern)
    except re.error as exc:
        return [PolicyError(source, "incident.pattern", f"not a valid regular expression: {exc}")]
    return []


def _explain(source: str, error: SchemaError) -> Iterable[PolicyError]:
    """Turn one schema error into errors that point at the offending key itself."""
    path = list(error.absolute_path)
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        yield PolicyError(source, _dotted(path), error.message)
        return
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    known = list(schema.get("properties", {}))
    for key in sorted(set(map(str, error.instance)) - set(known)):
        if path == ["rules", "scan"] and key == "enabled":
            message = "the scan cannot be turned off: the hotfix fast-path never skips it"
        else:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"
            message = f"unknown key{hint}"
        yield PolicyError(source, _dotted([*path, key]), message)


def _error_order(error: SchemaError) -> list[str]:
    return [str(part) for part in error.absolute_path]


def _dotted(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or TOP_LEVEL


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: mappings merge recursively; lists and scalars replace."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = _merge(current, value)
        else:
            merged[key] = value
    return merged


def _to_policy(source: str, data: Mapping[str, Any]) -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PolicyError(source, _dotted(list(first["loc"])), first["msg"]) from exc


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads((POLICY_DIR / "schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate keys, which PyYAML would silently let win."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
