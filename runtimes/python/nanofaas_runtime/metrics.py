"""Runtime metrics in the Prometheus text format, without a client library.

Updated only from the event-loop thread, so plain integers need no locks. Names match the other
runtimes: runtime_invocations_total{outcome}, runtime_invocation_duration_seconds,
runtime_in_flight, runtime_cold_start_total, runtime_init_duration_seconds.
"""
from bisect import bisect_left

OUTCOMES = ("success", "invalid_input", "error", "timeout")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class RuntimeMetrics:
    def __init__(self, function_name: str, init_duration_s: float) -> None:
        self._fn = 'function="%s"' % function_name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        self._init = init_duration_s
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self._buckets = [0] * (len(BUCKETS) + 1)
        self._sum = 0.0
        self.in_flight = 0
        self.cold_starts = 0

    def finished(self, outcome: str, seconds: float) -> None:
        self.outcomes[outcome] += 1
        self._sum += seconds
        self._buckets[bisect_left(BUCKETS, seconds)] += 1

    def render(self) -> str:
        fn = self._fn
        lines = [
            "# HELP runtime_invocations_total Invocations handled by this runtime, by outcome.",
            "# TYPE runtime_invocations_total counter",
        ]
        lines += [f'runtime_invocations_total{{{fn},outcome="{o}"}} {n}' for o, n in self.outcomes.items()]
        lines += [
            "# HELP runtime_invocation_duration_seconds Time spent in the handler.",
            "# TYPE runtime_invocation_duration_seconds histogram",
        ]
        cumulative = 0
        for i, count in enumerate(self._buckets):
            cumulative += count
            le = format(BUCKETS[i], "g") if i < len(BUCKETS) else "+Inf"
            lines.append(f'runtime_invocation_duration_seconds_bucket{{{fn},le="{le}"}} {cumulative}')
        lines += [
            f"runtime_invocation_duration_seconds_sum{{{fn}}} {self._sum}",
            f"runtime_invocation_duration_seconds_count{{{fn}}} {cumulative}",
            "# HELP runtime_in_flight Invocations currently running.",
            "# TYPE runtime_in_flight gauge",
            f"runtime_in_flight{{{fn}}} {self.in_flight}",
            "# HELP runtime_cold_start_total Invocations answered as a cold start (0 or 1 per process).",
            "# TYPE runtime_cold_start_total counter",
            f"runtime_cold_start_total{{{fn}}} {self.cold_starts}",
            "# HELP runtime_init_duration_seconds Time from process start until the handler was loaded.",
            "# TYPE runtime_init_duration_seconds gauge",
            f"runtime_init_duration_seconds{{{fn}}} {self._init}",
        ]
        return "\n".join(lines) + "\n"
