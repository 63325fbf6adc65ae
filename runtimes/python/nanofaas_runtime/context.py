"""Per-invocation facts handed to handlers that accept a second argument."""
import time
from typing import Mapping, Optional


class Context:
    __slots__ = ("function_name", "execution_id", "trace_id", "attempt", "metadata", "deadline")

    def __init__(
        self,
        function_name: str,
        execution_id: Optional[str],
        trace_id: Optional[str],
        attempt: int,
        metadata: Mapping[str, str],
        deadline: float,
    ) -> None:
        self.function_name = function_name
        self.execution_id = execution_id
        self.trace_id = trace_id
        self.attempt = attempt
        self.metadata = metadata
        #: time.monotonic() value at which the runtime answers 504 TIMEOUT.
        self.deadline = deadline

    def remaining_ms(self) -> int:
        """Milliseconds left before this invocation times out."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))
