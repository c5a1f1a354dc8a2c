"""Import at start-up what the first request would otherwise import in the middle of a job.

githubkit loads its REST namespaces and the models a typed method validates against lazily,
from inside the method, and httpcore loads anyio's asyncio backend at the first request: the
first evaluation after a start paid for some 450 ms of imports (the models are hundreds of
pydantic classes). A worker imports them before it takes its first job instead.

The models of a typed method are the names its body imports from the models package, which
its code object lists: no list of ours to keep in step with githubkit's releases. The App's
authentication (the installation token request) does the same from the latest models.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import time
from collections.abc import Iterator
from types import CodeType, ModuleType

from githubkit import GitHub
from githubkit.auth import app as app_auth

log = logging.getLogger(__name__)

# The typed methods the gateway calls (``writes``, ``issues``), by REST namespace.
TYPED_CALLS: dict[str, tuple[str, ...]] = {
    "repos": ("async_create_commit_status",),
    "checks": ("async_create", "async_update"),
    "issues": ("async_create", "async_update", "async_create_comment"),
}
# Imported lazily by httpcore on the first request (anyio's asyncio backend).
FIRST_REQUEST_MODULES = ("anyio._backends._asyncio", "anyio.streams.tls", "_strptime")


def preload() -> int:
    """Import the namespaces, models and modules the gateway's requests use; how many
    models were loaded. Sends nothing: the client is only asked for its namespaces.

    Only a head start: should a githubkit release lay its modules out otherwise, the worker
    starts all the same (a warning says so) and the first requests import what they need.
    """
    try:
        return _preload()
    except (ImportError, AttributeError) as exc:
        log.warning("githubkit's models not preloaded (%s): the first requests import them", exc)
        return 0


def _preload() -> int:
    started = time.perf_counter()
    github = GitHub()
    loaded = 0
    for namespace, methods in TYPED_CALLS.items():
        client_type = type(getattr(github.rest, namespace))
        models = _models_of(client_type.__module__)
        codes = (getattr(client_type, method).__code__ for method in methods)
        loaded += _load(models, codes)
    auth_models = importlib.import_module("githubkit_schemas.latest.models")
    loaded += _load(auth_models, _codes_of(app_auth))
    for module in FIRST_REQUEST_MODULES:
        importlib.import_module(module)
    log.debug("preloaded %d githubkit models in %.0f ms", loaded, _ms_since(started))
    return loaded


def _load(models: ModuleType, codes: Iterator[CodeType]) -> int:
    """Resolve every name of ``models`` (a lazy package) that the code objects use."""
    available = set(getattr(models, "__all__", ()))
    names = {name for code in codes for name in _names(code)} & available
    for name in names:
        getattr(models, name)
    return len(names)


def _names(code: CodeType) -> Iterator[str]:
    """The names a code object and the functions nested in it refer to."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _names(const)


def _codes_of(module: ModuleType) -> Iterator[CodeType]:
    """The code of every function and method defined in ``module``."""
    for _, member in inspect.getmembers(module):
        if inspect.isclass(member) and member.__module__ == module.__name__:
            for _, function in inspect.getmembers(member, inspect.isfunction):
                yield function.__code__
        elif inspect.isfunction(member) and member.__module__ == module.__name__:
            yield member.__code__


def _models_of(rest_module: str) -> ModuleType:
    """``githubkit_schemas.v2026_03_10.rest.repos`` -> ``githubkit_schemas.v2026_03_10.models``."""
    package, _, _ = rest_module.rpartition(".rest.")
    return importlib.import_module(f"{package}.models")


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
