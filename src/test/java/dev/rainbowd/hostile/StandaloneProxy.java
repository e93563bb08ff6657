package dev.rainbowd.hostile;

import dev.rainbowd.proxy.Backend;
import dev.rainbowd.proxy.GuardedHttpConnectionFactory;
import dev.rainbowd.proxy.ProxyRouter;
import dev.rainbowd.proxy.TrafficSwitch;
import java.time.Duration;
import java.util.function.Consumer;
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

    StandaloneProxy(int appPort) throws Exception {
        this(appPort, c -> {});
    }

    /** {@code customize} sees the connector before the server starts. */
    StandaloneProxy(int appPort, Consumer<ServerConnector> customize) throws Exception {
        connector = new ServerConnector(server, new GuardedHttpConnectionFactory(ProxyRouter.httpConfiguration())); // as Daemon's
        connector.setHost("127.0.0.1");
        connector.setIdleTimeout(60_000);
        customize.accept(connector);
        server.addConnector(connector);
        traffic.queueTimeout(Duration.ofSeconds(2));
        server.setHandler(new ProxyRouter(traffic, Duration.ofSeconds(30)));
        server.start();
        backend = new Backend(1, appPort);
        traffic.cutover(backend);
    }

    int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
