package dev.nanofaas.runtime;

import java.util.Map;

/** Per-invocation facts a handler may use; all values come from the dispatcher's request. */
public final class Context {
    private final String functionName;
    private final String executionId;
    private final String traceId;
    private final int attempt;
    private final Map<String, String> metadata;
    private final long deadlineNanos;

    Context(String functionName, String executionId, String traceId, int attempt,
            Map<String, String> metadata, long deadlineNanos) {
        this.functionName = functionName;
        this.executionId = executionId;
        this.traceId = traceId;
        this.attempt = attempt;
        this.metadata = metadata;
        this.deadlineNanos = deadlineNanos;
    }

    /** A context for calling a handler outside the runtime, e.g. in its unit tests. */
    public static Context local(String functionName, long timeoutMs) {
        return new Context(functionName, null, null, 1, Map.of(),
            System.nanoTime() + timeoutMs * 1_000_000L);
    }

    public String functionName() { return functionName; }

    /** X-Execution-Id, or null when the caller sent none. */
    public String executionId() { return executionId; }

    /** X-Trace-Id, or null. */
    public String traceId() { return traceId; }

    /** X-Dispatch-Attempt (1 for the first attempt). */
    public int attempt() { return attempt; }

    /** The request's {@code metadata} object; empty when absent. Unmodifiable. */
    public Map<String, String> metadata() { return metadata; }

    /** Milliseconds left before the runtime answers 504 TIMEOUT for this invocation. */
    public long remainingMillis() {
        return Math.max(0, (deadlineNanos - System.nanoTime()) / 1_000_000);
    }
}
