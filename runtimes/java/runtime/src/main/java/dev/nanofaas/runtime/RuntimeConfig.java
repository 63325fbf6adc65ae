package dev.nanofaas.runtime;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The runtime's environment (docs/design.md §5.1), validated once at startup, before anything starts.
 * A malformed value throws IllegalArgumentException with one line naming the variable and the
 * accepted form; Main prints it and exits 2.
 *
 * @param callbackToken CALLBACK_TOKEN, sent as {@code Authorization: Bearer …} on every callback
 * @param dieWithParent NANOFAAS_PARENT_PIPE=stdin: EOF on stdin means the control plane is gone
 */
record RuntimeConfig(
        String host,
        int port,
        String functionName,
        long timeoutMs,
        String handler,
        String callbackUrl,
        String callbackToken,
        boolean dieWithParent) {

    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.:_-]+");
    private static final Pattern TOKEN = Pattern.compile("[\\x21-\\x7e]+");
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d{1,10}");

    static RuntimeConfig fromEnv(Map<String, String> env) {
        String callback = url(env, "CALLBACK_URL");
        String function = raw(env, "FUNCTION_NAME");
        return new RuntimeConfig(
            host(env, "HOST", "127.0.0.1"),
            intEnv(env, "PORT", 8080, 0, 65535, "an integer port 0-65535"),
            function == null ? "function" : function,
            intEnv(env, "TIMEOUT_MS", 30000, 1, Integer.MAX_VALUE, null),
            handler(env),
            callback,
            token(env, "CALLBACK_TOKEN"),
            parentPipe(env));
    }

    /** Trimmed; unset and blank both mean "use the default". */
    private static String raw(Map<String, String> env, String name) {
        String value = env.get(name);
        if (value == null || value.isBlank()) return null;
        return value.trim();
    }

    private static IllegalArgumentException malformed(Map<String, String> env, String name, String form) {
        return new IllegalArgumentException(name + " must be " + form + ", got \"" + env.get(name) + "\"");
    }

    private static int intEnv(Map<String, String> env, String name, int fallback, int min, int max, String form) {
        String raw = raw(env, name);
        if (raw == null) return fallback;
        long value = INTEGER.matcher(raw).matches() ? Long.parseLong(raw) : (long) min - 1;
        if (value < min || value > max) {
            throw malformed(env, name, form != null ? form : "an integer " + min + "-" + max);
        }
        return (int) value;
    }

    private static String host(Map<String, String> env, String name, String fallback) {
        String raw = raw(env, name);
        if (raw == null) return fallback;
        if (!HOST.matcher(raw).matches()) throw malformed(env, name, "an IP address or host name, e.g. 127.0.0.1 or 0.0.0.0");
        return raw;
    }

    private static String handler(Map<String, String> env) {
        String raw = raw(env, "HANDLER");
        if (raw == null) {
            throw new IllegalArgumentException(
                "HANDLER must be path/to/function.jar#fully.qualified.Class or a class on the classpath, got nothing");
        }
        return raw;
    }

    /** An http(s) base URL without trailing slashes. */
    private static String url(Map<String, String> env, String name) {
        String raw = raw(env, name);
        if (raw == null) return null;
        boolean ok;
        try {
            URI uri = new URI(raw);
            ok = ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                && uri.getHost() != null && uri.getPort() <= 65535
                && uri.getRawQuery() == null && uri.getRawFragment() == null;
        } catch (URISyntaxException e) {
            ok = false;
        }
        if (!ok) {
            throw malformed(env, name, "an http(s) URL without query or fragment, e.g. http://127.0.0.1:8080/v1/internal/executions");
        }
        while (raw.endsWith("/")) raw = raw.substring(0, raw.length() - 1);
        return raw;
    }

    private static String token(Map<String, String> env, String name) {
        String raw = env.get(name);
        if (raw == null || raw.isEmpty()) return null;
        // Never echoed: it is a secret. No spaces or controls, so it cannot split or fold a header.
        if (!TOKEN.matcher(raw).matches()) {
            throw new IllegalArgumentException(
                name + " must be visible ASCII characters without spaces (a bearer token), got a value that is not");
        }
        return raw;
    }

    private static boolean parentPipe(Map<String, String> env) {
        String raw = raw(env, "NANOFAAS_PARENT_PIPE");
        if (raw == null) return false;
        if (!raw.equals("stdin")) throw malformed(env, "NANOFAAS_PARENT_PIPE", "\"stdin\" or unset");
        return true;
    }
}
