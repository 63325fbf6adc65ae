package dev.nanofaas.runtime;

import java.lang.reflect.Constructor;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resolves HANDLER into a {@link Handler} instance. Forms:
 * {@code path/to/function.jar#fully.qualified.Class} (the jar gets its own class loader whose
 * parent is the runtime's, so it shares Jackson and this API) or {@code fully.qualified.Class}
 * (already on the classpath). Relative paths resolve against the working directory.
 */
final class HandlerLoader {
    private HandlerLoader() {}

    static Handler load(String spec) throws HandlerLoadException {
        int hash = spec.lastIndexOf('#');
        String className = hash >= 0 ? spec.substring(hash + 1).trim() : spec.trim();
        if (className.isEmpty()) {
            throw new HandlerLoadException("HANDLER=" + spec + " names no class after '#'");
        }
        ClassLoader loader = HandlerLoader.class.getClassLoader();
        if (hash >= 0) {
            Path jar = Path.of(spec.substring(0, hash).trim()).toAbsolutePath().normalize();
            if (!Files.isRegularFile(jar)) {
                throw new HandlerLoadException("handler jar " + jar + " does not exist (build it with `npm run build:java`)");
            }
            try {
                loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, loader);
            } catch (java.net.MalformedURLException e) {
                throw new HandlerLoadException("handler jar path " + jar + " is not a valid URL: " + e.getMessage());
            }
        }
        Class<?> type;
        try {
            type = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new HandlerLoadException("handler class " + className + " could not be loaded: " + e);
        }
        if (!Handler.class.isAssignableFrom(type)) {
            throw new HandlerLoadException(className + " does not implement " + Handler.class.getName());
        }
        try {
            Constructor<?> constructor = type.getConstructor();
            return (Handler) constructor.newInstance();
        } catch (NoSuchMethodException e) {
            throw new HandlerLoadException(className + " needs a public no-argument constructor");
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new HandlerLoadException(className + " failed to initialise: " + cause);
        }
    }

    static final class HandlerLoadException extends Exception {
        HandlerLoadException(String message) {
            super(message);
        }
    }
}
