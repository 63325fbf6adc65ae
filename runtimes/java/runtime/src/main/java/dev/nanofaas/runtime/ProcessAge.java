package dev.nanofaas.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How long this process has existed, for X-Init-Duration-Ms. ProcessHandle's start instant is
 * anchored to the boot time in whole seconds (up to a second off), so on Linux the age comes from
 * /proc: uptime minus the process's start tick, both relative to boot.
 */
final class ProcessAge {
    /** USER_HZ; 100 on every mainstream Linux architecture. */
    private static final double CLOCK_TICKS_PER_SECOND = 100.0;

    private ProcessAge() {}

    static long millis() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"), StandardCharsets.US_ASCII);
            // Fields after the ")" closing the command name; starttime is field 22 overall.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long startTicks = Long.parseLong(fields[19]);
            String uptime = Files.readString(Path.of("/proc/uptime"), StandardCharsets.US_ASCII);
            double uptimeSeconds = Double.parseDouble(uptime.substring(0, uptime.indexOf(' ')));
            return Math.max(0, Math.round((uptimeSeconds - startTicks / CLOCK_TICKS_PER_SECOND) * 1000));
        } catch (IOException | RuntimeException e) {
            return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
        }
    }
}
