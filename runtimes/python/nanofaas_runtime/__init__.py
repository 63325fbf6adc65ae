"""nanofaas Python runtime: serves one handler over the runtime contract (docs/design.md §5).

Handler authors only need :class:`InvalidInputError` and, optionally, :class:`Context`.
"""
from .context import Context
from .errors import InvalidInputError

__all__ = ["Context", "InvalidInputError"]
