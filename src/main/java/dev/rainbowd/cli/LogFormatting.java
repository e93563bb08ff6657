package dev.rainbowd.cli;

/** --log-format: picks logback's appender (see logback.xml) before anything logs. */
final class LogFormatting {
    private LogFormatting() {}

    static void use(boolean json) {
        System.setProperty("RAINBOWD_LOG_FORMAT", json ? "JSON" : "TEXT");
    }
}
