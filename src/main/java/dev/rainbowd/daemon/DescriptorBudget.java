package dev.rainbowd.daemon;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * File descriptors, shared out so that they never run out. When they did (a flood of clients,
 * each connection one descriptor and its request to the app another), accepts failed on both
 * ports: the control port starved with the proxy, and Jetty logged a stack trace a second.
 *
 * <p>The choice: a limit on each port's connections, below the process's descriptor limit
 * (RLIMIT_NOFILE), rather than a spare descriptor freed on EMFILE (which gives one connection
 * back, to whichever port accepts first). The control port may hold {@link #CONTROL_CONNECTIONS}.
 * The proxy gets what is left once the descriptors open after start-up (listeners, selectors, the
 * JVM's own) and {@link #HEADROOM} (the pipes of the apps' output, health probes, state and trigger
 * files) are set aside, halved: each client connection needs one to the app while its request
 * runs (a tunnel holds one for its life), and a connection to the app outlives its request by
 * little (pooled ones idle 1.5 s; one opened for a request is closed after it), as nginx's
 * worker_connections counts both. Under a steady overload the pooled ones are the ones the next
 * requests take.
 */
final class DescriptorBudget {
    static final int CONTROL_CONNECTIONS = 64;
    static final int HEADROOM = 64;

    private final PortConnectionLimit proxy;
    private final PortConnectionLimit control;

    /** Limits both ports (without a number until {@link #apply()}). */
    DescriptorBudget(Server server, ServerConnector proxyConnector, ServerConnector controlConnector) {
        proxy = new PortConnectionLimit("proxy", proxyConnector, server.getScheduler());
        control = new PortConnectionLimit("control", controlConnector, server.getScheduler());
        server.addBean(proxy);
        server.addBean(control);
    }

    /** Once the server has started: what is open now is what rainbowd needs whatever its load. */
    void apply() {
        control.max(CONTROL_CONNECTIONS, "");
        if (!(ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean os)) return;
        long max = os.getMaxFileDescriptorCount();
        long open = os.getOpenFileDescriptorCount();
        proxy.max(proxyConnections(max, open), " (" + max + " file descriptors, ulimit -n: 2 a connection with its"
                + " request to the app, " + (open + CONTROL_CONNECTIONS + HEADROOM) + " kept for the rest)");
    }

    /** Client connections the proxy may hold with {@code max} descriptors, {@code open} of them in use at start. */
    static int proxyConnections(long max, long open) {
        long spare = max - open - CONTROL_CONNECTIONS - HEADROOM;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, spare / 2));
    }
}
