package dev.nanofaas.runtime;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * POST /invoke (docs/design.md §5.2). The handler runs on the request's own thread; a scheduled timer
 * answers 504 TIMEOUT at TIMEOUT_MS and interrupts the handler, so a slow handler never holds
 * the caller past its deadline and the common path pays no thread hand-off.
 */
final class InvokeEndpoint implements HttpHandler {
    private final RuntimeConfig config;
    private final Handler handler;
    private final RuntimeMetrics metrics;
    private final ScheduledExecutorService timers;
    private final CallbackClient callbacks;
    private final long initDurationMs;
    private final AtomicBoolean coldStartPending = new AtomicBoolean(true);
    private final Object drainLock = new Object();
    private volatile boolean draining;

    InvokeEndpoint(RuntimeConfig config, Handler handler, RuntimeMetrics metrics,
                   ScheduledExecutorService timers, CallbackClient callbacks, long initDurationMs) {
        this.config = config;
        this.handler = handler;
        this.metrics = metrics;
        this.timers = timers;
        this.callbacks = callbacks;
        this.initDurationMs = initDurationMs;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        if (!"/invoke".equals(exchange.getRequestURI().getPath())) {
            Responses.error(exchange, 404, "NOT_FOUND", "no route " + exchange.getRequestURI().getPath());
            return;
        }
        if (!"POST".equals(exchange.getRequestMethod())) {
            exchange.getResponseHeaders().set("Allow", "POST");
            Responses.error(exchange, 405, "METHOD_NOT_ALLOWED", "use POST /invoke");
            return;
        }
        if (draining) {
            Responses.error(exchange, 503, "SHUTTING_DOWN", "the runtime is shutting down");
            return;
        }
        byte[] raw = exchange.getRequestBody().readAllBytes();
        JsonNode envelope;
        try {
            envelope = raw.length == 0 ? null : Responses.JSON.readTree(raw);
        } catch (JacksonException e) {
            Responses.error(exchange, 400, "INVALID_JSON", "request body is not valid JSON: " + e.getOriginalMessage());
            return;
        }
        if (envelope == null || !envelope.isObject()) {
            Responses.error(exchange, 400, "INVALID_JSON", "request body must be a JSON object {input, metadata}");
            return;
        }
        Map<String, String> metadata;
        try {
            metadata = metadataOf(envelope.get("metadata"));
        } catch (IllegalArgumentException e) {
            Responses.error(exchange, 400, "INVALID_JSON", e.getMessage());
            return;
        }
        JsonNode input = envelope.hasNonNull("input") ? envelope.get("input") : NullNode.getInstance();
        String executionId = exchange.getRequestHeaders().getFirst("X-Execution-Id");
        long started = System.nanoTime();
        Context ctx = new Context(config.functionName(), executionId,
            exchange.getRequestHeaders().getFirst("X-Trace-Id"),
            attemptOf(exchange.getRequestHeaders().getFirst("X-Dispatch-Attempt")), metadata,
            started + TimeUnit.MILLISECONDS.toNanos(config.timeoutMs()));

        Invocation invocation = new Invocation(exchange, ctx, started);
        metrics.started();
        ScheduledFuture<?> timer = timers.schedule(invocation::timeOut, config.timeoutMs(), TimeUnit.MILLISECONDS);
        int status;
        byte[] body;
        RuntimeMetrics.Outcome outcome;
        try {
            Object output = handler.handle(input, ctx);
            body = Responses.JSON.writeValueAsBytes(output);
            status = 200;
            outcome = RuntimeMetrics.Outcome.SUCCESS;
        } catch (InvalidInputException e) {
            body = Responses.errorBody("INVALID_INPUT", messageOf(e));
            status = 400;
            outcome = RuntimeMetrics.Outcome.INVALID_INPUT;
        } catch (Throwable e) {
            body = Responses.errorBody("FUNCTION_ERROR", messageOf(e));
            status = 500;
            outcome = RuntimeMetrics.Outcome.ERROR;
        } finally {
            timer.cancel(false);
            invocation.handlerReturned();
        }
        invocation.complete(status, body, outcome);
    }

    /** Refuses new invocations and waits (bounded) for running ones; called from the shutdown hook. */
    void drain(long timeoutMs) {
        draining = true;
        long deadline = System.currentTimeMillis() + timeoutMs;
        synchronized (drainLock) {
            while (metrics.inFlight() > 0) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) return;
                try {
                    drainLock.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    boolean draining() {
        return draining;
    }

    private static Map<String, String> metadataOf(JsonNode node) {
        if (node == null || node.isNull()) return Map.of();
        if (!node.isObject()) throw new IllegalArgumentException("metadata must be an object of strings");
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (!entry.getValue().isTextual()) {
                throw new IllegalArgumentException("metadata." + entry.getKey() + " must be a string");
            }
            out.put(entry.getKey(), entry.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static int attemptOf(String header) {
        if (header == null) return 1;
        try {
            return Math.max(1, Integer.parseInt(header.trim()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    private static String messageOf(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getName() : message;
    }

    /** One invocation's race between the handler finishing and the timeout firing. */
    private final class Invocation {
        private final HttpExchange exchange;
        private final Context ctx;
        private final long started;
        private final Thread worker = Thread.currentThread();
        private final AtomicBoolean answered = new AtomicBoolean();
        private boolean handlerReturned;

        Invocation(HttpExchange exchange, Context ctx, long started) {
            this.exchange = exchange;
            this.ctx = ctx;
            this.started = started;
        }

        void handlerReturned() {
            synchronized (this) {
                handlerReturned = true;
            }
            // An interrupt aimed at this invocation must not leak into the next one on this thread.
            Thread.interrupted();
        }

        void timeOut() {
            complete(504, Responses.errorBody("TIMEOUT",
                "handler did not finish within TIMEOUT_MS=" + config.timeoutMs()), RuntimeMetrics.Outcome.TIMEOUT);
            synchronized (this) {
                if (!handlerReturned) worker.interrupt();
            }
        }

        void complete(int status, byte[] body, RuntimeMetrics.Outcome outcome) {
            if (!answered.compareAndSet(false, true)) return;
            if (coldStartPending.get() && coldStartPending.compareAndSet(true, false)) {
                exchange.getResponseHeaders().set("X-Cold-Start", "true");
                exchange.getResponseHeaders().set("X-Init-Duration-Ms", Long.toString(initDurationMs));
                metrics.coldStart();
            }
            if (ctx.executionId() != null) exchange.getResponseHeaders().set("X-Execution-Id", ctx.executionId());
            Responses.json(exchange, status, body);
            metrics.finished(outcome, System.nanoTime() - started);
            if (draining) {
                synchronized (drainLock) {
                    drainLock.notifyAll();
                }
            }
            if (callbacks != null && ctx.executionId() != null) {
                callbacks.post(ctx.executionId(), completionBody(status, body));
            }
        }

        private byte[] completionBody(int status, byte[] body) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 64);
            String head = "{\"attempt\":" + ctx.attempt() + ",\"status\":\"" + (status == 200 ? "success" : "error") + "\","
                + (status == 200 ? "\"output\":" : "\"error\":");
            out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
            out.writeBytes(body);
            out.write('}');
            return out.toByteArray();
        }
    }
}
