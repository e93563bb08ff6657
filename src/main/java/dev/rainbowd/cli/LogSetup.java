package dev.rainbowd.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.NopStatusListener;

/**
 * Logback's configuration, in code: a logback.xml made logback load its XML parser and Joran,
 * about 400 classes that stayed in memory for a config of six lines (issue 6: idle RSS).
 * Found by logback through META-INF/services. Each setting is a system property or, failing
 * that, an environment variable:
 * <ul>
 *   <li>{@code RAINBOWD_LOG_LEVEL}: the level, default info;
 *   <li>{@code RAINBOWD_LOG_FORMAT=JSON}: one JSON object per line (the run option {@code --log-format json});
 *   <li>{@code RAINBOWD_ACCESS_LOG=info}: a line per proxied request (logger {@code access}), default off;
 *   <li>{@code -Dlogback.configurationFile=F}: a logback config of your own, read by logback as usual.
 * </ul>
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        context.getStatusManager().add(new NopStatusListener()); // logback's own chatter stays out of our log

        Encoder<ILoggingEvent> encoder = "JSON".equalsIgnoreCase(setting("RAINBOWD_LOG_FORMAT", "TEXT"))
                ? json() : text();
        encoder.setContext(context);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("console");
        console.setEncoder(encoder);
        console.start();

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel(setting("RAINBOWD_LOG_LEVEL", "INFO"), Level.INFO));
        root.addAppender(console);
        context.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
        context.getLogger("okhttp3").setLevel(Level.WARN);
        context.getLogger("access").setLevel(Level.toLevel(setting("RAINBOWD_ACCESS_LOG", "OFF"), Level.OFF));
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private static Encoder<ILoggingEvent> text() {
        PatternLayoutEncoder e = new PatternLayoutEncoder();
        e.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %-10logger{0} %msg%n");
        return e;
    }

    /** timestamp (ISO-8601), level, loggerName, formattedMessage (and a throwable when there is one). */
    private static Encoder<ILoggingEvent> json() {
        JsonEncoder e = new IsoTimeJsonEncoder();
        e.setWithSequenceNumber(false);
        e.setWithNanoseconds(false);
        e.setWithContext(false);
        e.setWithMDC(false);
        e.setWithArguments(false);
        e.setWithMessage(false);
        e.setWithFormattedMessage(true);
        return e;
    }

    private static String setting(String name, String fallback) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v.trim();
    }
}
