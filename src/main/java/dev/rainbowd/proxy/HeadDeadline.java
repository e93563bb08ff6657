package dev.rainbowd.proxy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deadline for the head of a connection's first request. The idle timeout restarts with every
 * byte, so a client dripping a header byte every few seconds (slowloris) held a connection, and a
 * few hundred of them held every descriptor. nginx closes them at client_header_timeout (60 s); so
 * does this. Later requests on a kept-alive connection are not watched: a slowloris gains nothing
 * by first sending a whole request.
 */
public final class HeadDeadline implements Connection.Listener {
    private static final Logger log = LoggerFactory.getLogger(HeadDeadline.class);

    private final Scheduler scheduler;
    private final Duration deadline;

    public HeadDeadline(Scheduler scheduler, Duration deadline) {
        this.scheduler = scheduler;
        this.deadline = deadline;
    }

    @Override
    public void onOpened(Connection connection) {
        scheduler.schedule(() -> {
            // Still the connection it was (not upgraded to a tunnel), open, and no request yet.
            if (connection.getEndPoint().getConnection() == connection && connection.getEndPoint().isOpen()
                    && connection.getMessagesIn() == 0) {
                log.debug("closing {}: no complete request head within {} ms", connection.getEndPoint().getRemoteSocketAddress(),
                        deadline.toMillis());
                connection.getEndPoint().close();
            }
        }, deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void onClosed(Connection connection) {
        // the scheduled check finds it closed
    }
}
