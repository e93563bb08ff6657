package dev.rainbowd.hostile;

import dev.rainbowd.proxy.Backend;
import dev.rainbowd.proxy.GuardedHttpConnectionFactory;
import dev.rainbowd.proxy.ProxyRouter;
import dev.rainbowd.proxy.ProxySettings;
import dev.rainbowd.proxy.TrafficSwitch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.jetty.client.AbstractConnectionPool;
import org.eclipse.jetty.proxy.ProxyHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The proxy alone, as the daemon configures its connector, in front of one app port: for tests of
 * what bytes do to it, without deploys or processes.
 */
final class StandaloneProxy implements AutoCloseable {
    final TrafficSwitch traffic = new TrafficSwitch();
    final Server server = new Server();
    final ServerConnector connector;
    final Backend backend;
    private final ProxyRouter router;
    /** The state directory's stand-in: where bodies and responses are buffered beyond memory. */
    final Path spool = Files.createTempDirectory("rainbowd-spool");

    StandaloneProxy(int appPort) throws Exception {
        this(appPort, Duration.ofSeconds(60)); // the daemon's head deadline
    }

    /** With {@code headDeadline} for every request head instead. */
    StandaloneProxy(int appPort, Duration headDeadline) throws Exception {
        // as Daemon's
        connector = new ServerConnector(server, new GuardedHttpConnectionFactory(ProxyRouter.httpConfiguration(), headDeadline));
        connector.setHost("127.0.0.1");
        connector.setIdleTimeout(60_000);
        server.addConnector(connector);
        traffic.settings(ProxySettings.DEFAULT.withQueueTimeout(Duration.ofSeconds(2)));
        router = new ProxyRouter(traffic, Duration.ofSeconds(30), spool);
        server.setHandler(router);
        server.start();
        backend = new Backend(1, appPort);
        traffic.cutover(backend);
    }

    /**
     * Upstream connections in an exchange now: 0 once each exchange ended and its connection went
     * back to a pool or was closed. The client may have its response before that.
     */
    int activeUpstreamConnections() {
        ProxyHandler proxy = (ProxyHandler) router.getHandler();
        return proxy.getHttpClient().getDestinations().stream()
                .mapToInt(d -> ((AbstractConnectionPool) d.getConnectionPool()).getActiveConnectionCount()).sum();
    }

    int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
        Files.delete(spool); // empty: spooled bytes live in unlinked files
    }
}
