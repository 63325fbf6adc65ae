"""JSON in and out: orjson when it is importable, the standard library otherwise."""
import json
from typing import Any

try:  # optional speed-up; Debian bookworm (and so the image) has no orjson
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


if _orjson is not None:
    loads = _orjson.loads

    def dumps(value: Any) -> bytes:
        try:
            return _orjson.dumps(value)
        except TypeError:
            # orjson refuses what the stdlib accepts (e.g. int > 64 bit, lone surrogates, tuples as keys).
            return _std_dumps(value)

else:

    def loads(data: bytes) -> Any:
        # NaN/Infinity are not JSON; the stdlib would accept them by default.
        return json.loads(data, parse_constant=_reject_constant)

    def dumps(value: Any) -> bytes:
        return _std_dumps(value)


_encode_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_encode_ascii = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


def _std_dumps(value: Any) -> bytes:
    text = _encode_compact(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate cannot be UTF-8: fall back to \\u escapes, which JSON allows.
        return _encode_ascii(value).encode("ascii")
