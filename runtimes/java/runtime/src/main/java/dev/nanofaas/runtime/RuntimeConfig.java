package dev.nanofaas.runtime;

import java.util.Map;

/** The runtime's environment (DESIGN.md §5), validated once at startup. */
record RuntimeConfig(int port, String functionName, long timeoutMs, String handler, String callbackUrl) {

    static RuntimeConfig fromEnv(Map<String, String> env) {
        String handler = env.getOrDefault("HANDLER", "").trim();
        if (handler.isEmpty()) {
            throw new IllegalArgumentException(
                "HANDLER is not set: expected path/to/function.jar#fully.qualified.Class or a class on the classpath");
        }
        String callback = env.getOrDefault("CALLBACK_URL", "").trim();
        while (callback.endsWith("/")) callback = callback.substring(0, callback.length() - 1);
        return new RuntimeConfig(
            intEnv(env, "PORT", 8080, 0, 65535),
            env.getOrDefault("FUNCTION_NAME", "function"),
            intEnv(env, "TIMEOUT_MS", 30000, 1, Integer.MAX_VALUE),
            handler,
            callback.isEmpty() ? null : callback);
    }

    private static int intEnv(Map<String, String> env, String name, int fallback, int min, int max) {
        String raw = env.get(name);
        if (raw == null || raw.isBlank()) return fallback;
        try {
            int value = Integer.parseInt(raw.trim());
            if (value < min || value > max) throw new NumberFormatException();
            return value;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                name + "=" + raw + " is not an integer between " + min + " and " + max);
        }
    }
}
