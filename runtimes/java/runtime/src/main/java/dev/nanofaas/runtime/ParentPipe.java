package dev.nanofaas.runtime;

import java.io.IOException;
import java.io.InputStream;

/**
 * Die with the control plane (NANOFAAS_PARENT_PIPE=stdin). The control plane starts the runtime
 * with stdin as a pipe it holds open and never writes; the kernel closes it however the control
 * plane ends, SIGKILL included. EOF or an error on stdin therefore means nobody will ever stop this
 * runtime: it kills every process it started, then halts without running shutdown hooks (a
 * graceful drain would wait for callbacks to a control plane that is gone).
 */
final class ParentPipe {
    private ParentPipe() {}

    static void watch(InputStream stdin) {
        Thread watcher = new Thread(() -> {
            String why = "stdin reached EOF";
            byte[] buffer = new byte[8192];
            try {
                while (stdin.read(buffer) != -1) {
                    // nothing is expected on the pipe; reading it is how EOF is seen
                }
            } catch (IOException e) {
                why = "stdin failed: " + e.getMessage();
            }
            System.err.println("nanofaas-runtime: control plane gone (" + why + "): killing this runtime and everything it started");
            System.err.flush();
            ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
            Runtime.getRuntime().halt(1);
        }, "nanofaas-parent-pipe");
        watcher.setDaemon(true);
        watcher.start();
    }
}
