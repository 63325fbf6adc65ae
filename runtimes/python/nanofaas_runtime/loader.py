"""Resolves HANDLER (``path/to/file.py:function`` or ``package.module:function``) to a callable."""
import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass
from typing import Any, Callable

from .errors import HandlerLoadError


@dataclass(frozen=True)
class LoadedHandler:
    fn: Callable[..., Any]
    is_async: bool
    #: True when the handler takes (input, ctx); False for handle(input).
    wants_context: bool


def load_handler(spec: str) -> LoadedHandler:
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise HandlerLoadError(f"HANDLER={spec!r} must look like path/to/file.py:function or module:function")
    module = _load_file(target) if target.endswith(".py") or os.sep in target else _load_module(target)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise HandlerLoadError(f"{target} has no function {name!r}")
    return LoadedHandler(fn=fn, is_async=inspect.iscoroutinefunction(fn), wants_context=_wants_context(fn))


def _load_file(path: str):
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise HandlerLoadError(f"handler file {full} does not exist")
    # The handler's folder goes on sys.path so it can import its sibling modules.
    sys.path.insert(0, os.path.dirname(full))
    spec = importlib.util.spec_from_file_location("nanofaas_handler", full)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"{full} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the handler's own import-time failure, reported with its cause
        raise HandlerLoadError(f"importing {full} failed: {exc!r}") from exc
    return module


def _load_module(name: str):
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise HandlerLoadError(f"importing module {name} failed: {exc!r}") from exc


def _wants_context(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)
