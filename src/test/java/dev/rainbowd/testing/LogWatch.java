package dev.rainbowd.testing;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.LoggerFactory;

/**
 * The daemon's log lines, as they happen: what rainbowd does to a process (which signal, when, a
 * SIGKILL) is only visible there, and a test waits on it instead of guessing a time.
 */
public final class LogWatch extends AppenderBase<ILoggingEvent> implements AutoCloseable {
    private final Queue<String> lines = new ConcurrentLinkedQueue<>();
    private final Logger root;

    public LogWatch() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        setContext(context);
        setName("test-log-watch");
        start();
        root.addAppender(this);
    }

    @Override
    protected void append(ILoggingEvent event) {
        lines.add(event.getFormattedMessage());
    }

    /** Log lines containing every one of {@code parts}. */
    public List<String> matching(String... parts) {
        return lines.stream().filter(l -> List.of(parts).stream().allMatch(l::contains)).toList();
    }

    public void await(Duration timeout, String... parts) {
        TestDaemon.await("a log line with " + List.of(parts), () -> !matching(parts).isEmpty(), timeout);
    }

    @Override
    public void close() {
        root.detachAppender(this);
        stop();
    }
}
