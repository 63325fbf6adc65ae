package dev.nanofaas.runtime;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Posts completions to {@code {CALLBACK_URL}/{executionId}:complete} with sendAsync, so the
 * invocation's response never waits for the control plane (a synchronous callback with retry
 * sleeps would put those sleeps, ≥ 600 ms, on every call). One attempt per completion: the dispatcher
 * already has the result from the HTTP response, the callback only helps it finish faster.
 */
final class CallbackClient {
    private final String baseUrl;
    private final HttpClient client;
    private final Set<CompletableFuture<?>> pending = ConcurrentHashMap.newKeySet();

    /** Null, or CALLBACK_TOKEN: the function's own credential for its executions' callbacks. */
    private final String token;

    CallbackClient(String baseUrl, String token) {
        this.baseUrl = baseUrl;
        this.token = token;
        this.client = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    }

    void post(String executionId, byte[] body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(
                baseUrl + "/" + pathSegment(executionId) + ":complete"))
            .timeout(Duration.ofSeconds(5))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) builder.header("Authorization", "Bearer " + token);
        HttpRequest request = builder.build();
        CompletableFuture<HttpResponse<Void>> future = client.sendAsync(request, HttpResponse.BodyHandlers.discarding());
        pending.add(future);
        future.whenComplete((response, error) -> {
            pending.remove(future);
            if (error != null) {
                System.err.println("callback for " + executionId + " failed: " + error);
            } else if (response.statusCode() < 200 || response.statusCode() >= 300) {
                // 401/403: this replica's credential is wrong; 404/409: the execution already ended.
                System.err.println("callback for " + executionId + " failed: HTTP " + response.statusCode());
            }
        });
    }

    /** Percent-encodes an id for use as one path segment (URLEncoder writes form encoding: "+" for space). */
    private static String pathSegment(String id) {
        return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Waits (bounded) for callbacks still in flight, so SIGTERM does not drop them. */
    void drain(long timeoutMs) {
        CompletableFuture<?>[] inFlight = pending.toArray(CompletableFuture[]::new);
        if (inFlight.length == 0) return;
        try {
            CompletableFuture.allOf(inFlight).get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // Failures were already logged per callback; a timeout here only bounds shutdown.
        }
    }
}
