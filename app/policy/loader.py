"""Load the policy: the runbook's defaults, then the organisation's file, then the repository's.

The defaults and the organisation's layers merge freely; the repository's layer merges over them
through ``app.policy.floor``, which drops the locked keys and the loosening values it sets and
lists them on ``Policy.ignored``.

Each file is checked against ``policies/schema.json`` on its own before anything is merged, so an
error names the file the mistake is in (a typo in the organisation's ``.github`` repository should
not be blamed on the repository being evaluated). Mappings merge key by key; lists and single
values replace, so an override can shorten a list as well as lengthen it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import ValidationError

from app.policy.floor import apply_floor
from app.policy.keys import dotted_path
from app.policy.layers import EXTENDS_KEY, PolicyLayer, Scope, extends_of
from app.policy.model import IgnoredKey, Policy, incident_regex

# policies/ of the source tree, shipped inside the package: app/policy/shipped links to it in
# a checkout, and the wheel carries the files themselves, so an installed app finds them.
POLICY_DIR = Path(__file__).parent / "shipped"
DEFAULT_SOURCE = "policies/default.yml"
TOP_LEVEL = "(top level)"
# A policy file is a few kilobytes. Policies are loaded on the event loop, so a huge file (or
# one whose aliases expand without end) would stall every other job while it is parsed.
MAX_POLICY_BYTES = 64 * 1024
MAX_POLICY_NODES = 100_000


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


@lru_cache(maxsize=1)
def default_policy_text() -> str:
    """The text of ``policies/default.yml``, read once per process: the file ships with the
    package, and every evaluation's policy starts from it (the same string each time also
    keeps its hash, which the parsed-policy cache is keyed by)."""
    return (POLICY_DIR / "default.yml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The runbook's defaults with no override (read once per process)."""
    return load_policy([(DEFAULT_SOURCE, default_policy_text())])


def load_policy(layers: Sequence[PolicyLayer | tuple[str, str | None]]) -> Policy:
    """Merge the present layers (lowest precedence first) into a ``Policy``.

    A layer is a ``PolicyLayer`` or ``(source name, text)``, which is trusted like the
    organisation's; ``None`` text means the file does not exist and is skipped (no organisation
    file: the defaults are the floor). A repository layer only tightens what lies below it; what
    it may not set is on the result's ``ignored``. Raises ``PolicyError`` for the first problem
    found, naming the file it is in.
    """
    merged: dict[str, Any] = {}
    locked: list[str] = []
    ignored: list[IgnoredKey] = []
    present: list[str] = []
    sources: dict[str, str] = {}
    for layer in map(_as_layer, layers):
        if layer.problem is not None:
            raise PolicyError(layer.extended_by or layer.source, EXTENDS_KEY, layer.problem)
        if layer.text is None:
            continue
        data, errors = _check_layer(layer.source, layer.text)
        if errors:
            raise errors[0]
        present.append(layer.source)
        if layer.scope is Scope.REPOSITORY:
            if extends_of(layer.text) is not None:
                ignored.append(
                    IgnoredKey(layer.source, EXTENDS_KEY, "read only in the organisation's file")
                )
            data, dropped = apply_floor(layer.source, merged, data, locked)
            ignored.extend(dropped)
        else:
            # Every organisation layer's locks hold: a file cannot unlock what its base locked.
            locked.extend(key for key in data.get("locked", ()) if key not in locked)
        merged = _merge(merged, data)
        if layer.source != DEFAULT_SOURCE:
            sources.update(dict.fromkeys(_leaves(data), layer.source))
    if locked:
        merged["locked"] = locked
    policy = _to_policy(" + ".join(present) or TOP_LEVEL, merged)
    if not ignored and not sources:
        return policy
    return policy.model_copy(
        update={"ignored": tuple(ignored), "sources": tuple(sorted(sources.items()))}
    )


def _leaves(data: Mapping[str, Any], path: tuple[str, ...] = ()) -> list[str]:
    """The dotted keys a layer sets: each value that is not itself a mapping."""
    found: list[str] = []
    for key, value in data.items():
        here = (*path, str(key))
        if isinstance(value, Mapping):
            found.extend(_leaves(value, here))
        elif key != EXTENDS_KEY:
            found.append(dotted_path(here))
    return found


def _as_layer(layer: PolicyLayer | tuple[str, str | None]) -> PolicyLayer:
    return layer if isinstance(layer, PolicyLayer) else PolicyLayer(*layer)


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
    """Parse and validate one file on its own; an empty file is an empty override.

    Whatever the text, the outcome is data or ``PolicyError``s naming ``source``: the file
    is written by whoever can push to a repository, and an exception escaping from here would
    crash the evaluation job instead of giving the pull request an ``error`` status.
    """
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_POLICY_BYTES:
        return {}, [
            PolicyError(
                source,
                TOP_LEVEL,
                f"the file is {size:,} bytes; a policy file may be at most "
                f"{MAX_POLICY_BYTES // 1024} KiB",
            )
        ]
    try:
        data = _parse(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}" if mark is not None else TOP_LEVEL
        problem = exc.problem or exc.context or "unreadable YAML"
        return {}, [PolicyError(source, where, f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        return {}, [PolicyError(source, TOP_LEVEL, f"YAML syntax error: {detail}")]
    except _Unusable as exc:
        where = TOP_LEVEL if exc.mark is None else f"line {exc.mark.line + 1}"
        return {}, [PolicyError(source, where, exc.message)]
    except RecursionError:
        # PyYAML composes nodes recursively: a few hundred nested "[" exhaust the stack.
        return {}, [PolicyError(source, TOP_LEVEL, "YAML nested too deeply")]
    except Exception as exc:  # PyYAML documents no complete list of what it raises
        # PyYAML's constructors raise bare TypeError/ValueError on some inputs (the
        # known ones are turned into located errors by _StrictLoader); anything else still
        # names the file rather than crashing the job.
        return {}, [PolicyError(source, TOP_LEVEL, f"unreadable YAML: {_short(str(exc))}")]
    if data is None:
        return {}, []
    if isinstance(data, dict) and EXTENDS_KEY in data:
        # Probot's key, not policy: the gateway reads the file it names (organisation only).
        data = {key: value for key, value in data.items() if key != EXTENDS_KEY}
        if not isinstance(extends_of(text), str):
            return {}, [
                PolicyError(source, EXTENDS_KEY, "must name a repository: 'repo' or 'owner/repo'")
            ]
    try:
        errors = [
            error
            for schema_error in sorted(_validator().iter_errors(data), key=_error_order)
            for error in _explain(source, schema_error)
        ]
        if not errors:
            errors = _pattern_errors(source, data)
    except Exception as exc:
        # Values no JSON document could hold (PyYAML's sets, dates, binary) that the
        # validator might trip over rather than report, or a structure too deep for it.
        return {}, [PolicyError(source, TOP_LEVEL, f"unusable content: {_short(str(exc))}")]
    return (data if isinstance(data, dict) else {}), errors


class _Unusable(Exception):
    """Well-formed YAML that is no policy file: too big once expanded, or a loop."""

    def __init__(self, message: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _parse(text: str) -> Any:
    """The YAML document in ``text``, refused (``_Unusable``) when its aliases expand too far.

    Anchors and aliases are shared by PyYAML, not copied, but the validator, error messages
    and the merge walk the expanded tree: nine aliases of nine aliases, eight times over, is
    40 million values from a 300-byte file. The composed node graph is measured first.
    """
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node) -> None:
    """Raise ``_Unusable`` if ``root`` expands to over ``MAX_POLICY_NODES`` nodes or loops.

    Walked without recursion (the node graph can be deep); sizes of shared nodes are kept, so
    the walk costs the graph's size, not the expansion's.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # the current path: a child among them is a loop
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            open_nodes.discard(id(node))
            size = 1 + sum(sizes[id(child)] for child in _children(node))
            if size > MAX_POLICY_NODES:
                raise _Unusable(
                    f"anchors and aliases expand to over {MAX_POLICY_NODES:,} values; "
                    "a policy file needs far fewer"
                )
            sizes[id(node)] = size
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_nodes:
            raise _Unusable("an alias refers to the value that contains it", node.start_mark)
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _short(text: str, limit: int = 300) -> str:
    """``text`` cut to ``limit`` characters: schema messages quote the offending value whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pattern_errors(source: str, data: Mapping[str, Any]) -> list[PolicyError]:
    # Checked per file, so the error names the file the pattern is in (the model would only
    # know the merged layers). The rules run it on RE2, as compiled here.
    pattern = data.get("incident", {}).get("pattern")
    if pattern is None:
        return []
    try:
        incident_regex(pattern)
    except ValueError as exc:
        return [PolicyError(source, "incident.pattern", _short(str(exc)))]
    return []


def _explain(source: str, error: SchemaError) -> Iterable[PolicyError]:
    """Turn one schema error into errors that point at the offending key itself."""
    path = list(error.absolute_path)
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        yield PolicyError(source, _key_of(path), _short(error.message))
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
        yield PolicyError(source, _key_of([*path, key]), message)


def _error_order(error: SchemaError) -> list[str]:
    return [str(part) for part in error.absolute_path]


def _key_of(path: Sequence[str | int]) -> str:
    return dotted_path(path) or TOP_LEVEL


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
        raise PolicyError(source, _key_of(list(first["loc"])), first["msg"]) from exc


@lru_cache(maxsize=1)
def policy_schema_text() -> str:
    """The policy files' JSON Schema (``policies/schema.json``), as editors and CI read it."""
    return (POLICY_DIR / "schema.json").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(policy_schema_text()))


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate keys, which PyYAML would silently let win, and
    reports a value it cannot construct as a ``YAMLError`` at that value's line."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except (TypeError, ValueError, OverflowError) as exc:
            # SafeLoader's own constructors raise these bare: "2020-13-45" (ValueError from
            # datetime), an integer of over 4,300 digits (ValueError from int()).
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value: {exc}", node.start_mark
            ) from exc

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                # A complex key ("? [a, b]"): SafeLoader would raise a bare TypeError on it.
                raise yaml.constructor.ConstructorError(
                    None, None, "a list or mapping cannot be a key", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
