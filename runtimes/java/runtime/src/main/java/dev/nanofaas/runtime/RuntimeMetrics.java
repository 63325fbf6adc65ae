package dev.nanofaas.runtime;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The runtime's Prometheus metrics, kept in lock-free adders and rendered in the text exposition
 * format on demand (no client library: the runtime jar stays Jackson-only).
 */
final class RuntimeMetrics {
    /** Outcomes of an invocation; the label values of {@code runtime_invocations_total}. */
    enum Outcome {
        SUCCESS("success"), INVALID_INPUT("invalid_input"), ERROR("error"), TIMEOUT("timeout");

        final String label;

        Outcome(String label) {
            this.label = label;
        }
    }

    private static final double[] BUCKETS = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final String function;
    private final LongAdder[] outcomes = new LongAdder[Outcome.values().length];
    private final LongAdder[] bucketCounts = new LongAdder[BUCKETS.length + 1];
    private final DoubleAdder durationSum = new DoubleAdder();
    private final AtomicLong inFlight = new AtomicLong();
    private final LongAdder coldStarts = new LongAdder();
    private final double initDurationSeconds;

    RuntimeMetrics(String function, long initDurationMs) {
        this.function = escape(function);
        this.initDurationSeconds = initDurationMs / 1000.0;
        for (int i = 0; i < outcomes.length; i++) outcomes[i] = new LongAdder();
        for (int i = 0; i < bucketCounts.length; i++) bucketCounts[i] = new LongAdder();
    }

    void started() {
        inFlight.incrementAndGet();
    }

    void finished(Outcome outcome, long durationNanos) {
        inFlight.decrementAndGet();
        outcomes[outcome.ordinal()].increment();
        double seconds = durationNanos / 1e9;
        durationSum.add(seconds);
        int bucket = 0;
        while (bucket < BUCKETS.length && seconds > BUCKETS[bucket]) bucket++;
        bucketCounts[bucket].increment();
    }

    void coldStart() {
        coldStarts.increment();
    }

    long inFlight() {
        return inFlight.get();
    }

    String render() {
        String fn = "function=\"" + function + "\"";
        StringBuilder out = new StringBuilder(2048);
        out.append("# HELP runtime_invocations_total Invocations handled by this runtime, by outcome.\n");
        out.append("# TYPE runtime_invocations_total counter\n");
        for (Outcome outcome : Outcome.values()) {
            out.append("runtime_invocations_total{").append(fn).append(",outcome=\"").append(outcome.label)
                .append("\"} ").append(outcomes[outcome.ordinal()].sum()).append('\n');
        }
        out.append("# HELP runtime_invocation_duration_seconds Time spent in the handler.\n");
        out.append("# TYPE runtime_invocation_duration_seconds histogram\n");
        long cumulative = 0;
        for (int i = 0; i <= BUCKETS.length; i++) {
            cumulative += bucketCounts[i].sum();
            String le = i < BUCKETS.length ? java.math.BigDecimal.valueOf(BUCKETS[i]).stripTrailingZeros().toPlainString() : "+Inf";
            out.append("runtime_invocation_duration_seconds_bucket{").append(fn).append(",le=\"").append(le)
                .append("\"} ").append(cumulative).append('\n');
        }
        out.append("runtime_invocation_duration_seconds_sum{").append(fn).append("} ").append(durationSum.sum()).append('\n');
        out.append("runtime_invocation_duration_seconds_count{").append(fn).append("} ").append(cumulative).append('\n');
        out.append("# HELP runtime_in_flight Invocations currently running.\n");
        out.append("# TYPE runtime_in_flight gauge\n");
        out.append("runtime_in_flight{").append(fn).append("} ").append(inFlight.get()).append('\n');
        out.append("# HELP runtime_cold_start_total Invocations answered as a cold start (0 or 1 per process).\n");
        out.append("# TYPE runtime_cold_start_total counter\n");
        out.append("runtime_cold_start_total{").append(fn).append("} ").append(coldStarts.sum()).append('\n');
        out.append("# HELP runtime_init_duration_seconds Time from process start until the handler was loaded.\n");
        out.append("# TYPE runtime_init_duration_seconds gauge\n");
        out.append("runtime_init_duration_seconds{").append(fn).append("} ").append(initDurationSeconds).append('\n');
        return out.toString();
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
