"""The runtime's environment (DESIGN.md §5), validated once at startup."""
import os
from dataclasses import dataclass
from typing import Mapping, Optional

from .errors import ConfigError


@dataclass(frozen=True)
class RuntimeConfig:
    host: str
    port: int
    function_name: str
    timeout_ms: int
    handler: str
    callback_url: Optional[str]

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "RuntimeConfig":
        handler = env.get("HANDLER", "").strip()
        if not handler:
            raise ConfigError("HANDLER is not set: expected path/to/file.py:function or module:function")
        callback = env.get("CALLBACK_URL", "").strip().rstrip("/")
        return cls(
            host=env.get("HOST", "127.0.0.1"),
            port=_int_env(env, "PORT", 8080, 0, 65535),
            function_name=env.get("FUNCTION_NAME", "function"),
            timeout_ms=_int_env(env, "TIMEOUT_MS", 30000, 1, 2**31 - 1),
            handler=handler,
            callback_url=callback or None,
        )


def _int_env(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw} is not an integer between {low} and {high}")
    return value
