package dev.rainbowd.cli;

import picocli.CommandLine.Option;

/** {@code --log-format text|json}: picks the log format (see LogSetup) before anything logs. */
final class LogFormatting {
    enum Format { text, json }

    @Option(names = "--log-format", paramLabel = "text|json",
            description = "log lines as text (default) or one JSON object per line")
    Format format;

    void apply() {
        if (format != null) System.setProperty("RAINBOWD_LOG_FORMAT", format == Format.json ? "JSON" : "TEXT");
    }
}
