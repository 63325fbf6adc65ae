"""The runtime's environment (docs/design.md §5.1), validated once at startup.

Every variable the runtime reads is parsed here, before anything starts. A malformed value raises
ConfigError with one line naming the variable and the accepted form; ``__main__`` prints it and
exits 2.
"""
import os
import re
from dataclasses import dataclass
from typing import Mapping, Optional
from urllib.parse import urlsplit

from .errors import ConfigError

# Python's own limit is far larger; this matches the other runtimes (a JS timer's maximum).
_MAX_MS = 2**31 - 1


@dataclass(frozen=True)
class RuntimeConfig:
    host: str
    port: int
    function_name: str
    timeout_ms: int
    handler: str
    callback_url: Optional[str]
    # CALLBACK_TOKEN: sent as "Authorization: Bearer ..." on every callback.
    callback_token: Optional[str]
    # NANOFAAS_PARENT_PIPE=stdin: EOF on stdin means the control plane is gone (parent_pipe.py).
    die_with_parent: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "RuntimeConfig":
        return cls(
            host=_host_env(env, "HOST", "127.0.0.1"),
            port=_int_env(env, "PORT", 8080, 0, 65535, "an integer port 0-65535"),
            function_name=_raw(env, "FUNCTION_NAME") or "function",
            timeout_ms=_int_env(env, "TIMEOUT_MS", 30000, 1, _MAX_MS),
            handler=_handler_env(env),
            callback_url=_url_env(env, "CALLBACK_URL"),
            callback_token=_token_env(env, "CALLBACK_TOKEN"),
            die_with_parent=_parent_pipe_env(env),
        )


def _raw(env: Mapping[str, str], name: str) -> Optional[str]:
    value = env.get(name, "").strip()
    return value or None


def _int_env(env: Mapping[str, str], name: str, default: int, low: int, high: int, form: str = "") -> int:
    raw = _raw(env, name)
    if raw is None:
        return default
    value = int(raw) if re.fullmatch(r"[+-]?\d+", raw) else low - 1
    if not low <= value <= high:
        raise ConfigError(f'{name} must be {form or f"an integer {low}-{high}"}, got "{env.get(name)}"')
    return value


def _host_env(env: Mapping[str, str], name: str, default: str) -> str:
    raw = _raw(env, name)
    if raw is None:
        return default
    if not re.fullmatch(r"[A-Za-z0-9.:_-]+", raw):
        raise ConfigError(f'{name} must be an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0, got "{env.get(name)}"')
    return raw


def _handler_env(env: Mapping[str, str]) -> str:
    raw = _raw(env, "HANDLER")
    if raw is None:
        raise ConfigError("HANDLER must be path/to/file.py:function or package.module:function, got nothing")
    return raw


def _url_env(env: Mapping[str, str], name: str) -> Optional[str]:
    raw = _raw(env, name)
    if raw is None:
        return None
    try:
        url = urlsplit(raw)
        ok = url.scheme in ("http", "https") and bool(url.hostname) and not url.query and not url.fragment
        url.port  # raises ValueError on a malformed port
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError(
            f"{name} must be an http(s) URL without query or fragment,"
            f' e.g. http://127.0.0.1:8080/v1/internal/executions, got "{raw}"'
        )
    return raw.rstrip("/")


def _token_env(env: Mapping[str, str], name: str) -> Optional[str]:
    raw = env.get(name, "")
    if raw == "":
        return None
    # Never echoed: it is a secret. No spaces or controls, so it cannot split or fold a header.
    if not re.fullmatch(r"[\x21-\x7e]+", raw):
        raise ConfigError(f"{name} must be visible ASCII characters without spaces (a bearer token), got a value that is not")
    return raw


def _parent_pipe_env(env: Mapping[str, str]) -> bool:
    raw = _raw(env, "NANOFAAS_PARENT_PIPE")
    if raw is None:
        return False
    if raw != "stdin":
        raise ConfigError(f'NANOFAAS_PARENT_PIPE must be "stdin" or unset, got "{env.get("NANOFAAS_PARENT_PIPE")}"')
    return True
