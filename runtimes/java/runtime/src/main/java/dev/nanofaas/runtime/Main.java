package dev.nanofaas.runtime;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** Entry point: env → handler → HTTP server on HOST:PORT, stopped gracefully on SIGTERM. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // The JDK server leaves Nagle on by default, which adds delayed-ACK stalls to small keep-alive responses.
        System.setProperty("sun.net.httpserver.nodelay", "true");

        // The whole environment is validated before anything else happens.
        RuntimeConfig config;
        try {
            config = RuntimeConfig.fromEnv(System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("nanofaas-runtime: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (config.dieWithParent()) ParentPipe.watch(System.in);
        Handler handler;
        try {
            handler = HandlerLoader.load(config.handler());
        } catch (IllegalArgumentException | HandlerLoader.HandlerLoadException e) {
            System.err.println("nanofaas-runtime: " + e.getMessage());
            System.exit(2);
            return;
        }
        Responses.warmUp();
        long initDurationMs = ProcessAge.millis();
        String host = config.host();

        try {
            start(config, handler, host, initDurationMs);
        } catch (IOException e) {
            System.err.println("nanofaas-runtime: cannot listen on " + host + ":" + config.port() + ": " + e.getMessage());
            System.exit(1);
        }
    }

    private static void start(RuntimeConfig config, Handler handler, String host, long initDurationMs) throws IOException {
        RuntimeMetrics metrics = new RuntimeMetrics(config.functionName(), initDurationMs);
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, daemon("nanofaas-timeout"));
        // Timers are cancelled on almost every call; drop them at once instead of keeping them until TIMEOUT_MS.
        timers.setRemoveOnCancelPolicy(true);
        CallbackClient callbacks = config.callbackUrl() == null ? null : new CallbackClient(config.callbackUrl(), config.callbackToken());
        InvokeEndpoint invoke = new InvokeEndpoint(config, handler, metrics, timers, callbacks, initDurationMs);

        HttpServer server = HttpServer.create(new InetSocketAddress(host, config.port()), 1024);
        ExecutorService workers = workerExecutor();
        server.setExecutor(workers);
        server.createContext("/invoke", invoke);
        server.createContext("/health", exchange -> {
            boolean up = !invoke.draining();
            Responses.json(exchange, up ? 200 : 503,
                ("{\"status\":\"" + (up ? "UP" : "DRAINING") + "\"}").getBytes(StandardCharsets.UTF_8));
        });
        server.createContext("/metrics", exchange -> Responses.send(exchange, 200,
            "text/plain; version=0.0.4; charset=utf-8", metrics.render().getBytes(StandardCharsets.UTF_8)));
        server.createContext("/", exchange -> Responses.error(exchange, 404, "NOT_FOUND",
            "no route " + exchange.getRequestURI().getPath()));
        server.start();

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // Let running invocations finish (bounded by their own timeout), then close the port.
            invoke.drain(Math.min(config.timeoutMs(), 25_000));
            // stop() closes the port at once but then waits up to a second for the JDK's selector
            // loop; nothing is in flight any more, so let the JVM exit without waiting for it.
            Thread stopper = new Thread(() -> server.stop(0), "nanofaas-stop");
            stopper.setDaemon(true);
            stopper.start();
            if (callbacks != null) callbacks.drain(2_000);
        }, "nanofaas-shutdown"));

        System.out.println("nanofaas java runtime: " + config.functionName() + " (" + config.handler() + ") listening on http://"
            + host + ":" + server.getAddress().getPort() + " after " + initDurationMs + " ms");
    }

    /** Virtual threads when the JDK has them (21+), looked up reflectively so the jar still targets 17. */
    private static ExecutorService workerExecutor() {
        try {
            return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
        } catch (ReflectiveOperationException e) {
            return Executors.newCachedThreadPool(daemon("nanofaas-worker"));
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
