package dev.rainbowd.proxy;

import java.time.Duration;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;

/**
 * HTTP/1.1 for both of rainbowd's ports: Jetty's, with every request head checked as nginx checks
 * it and bounded in time (see {@link GuardedHttpConnection}).
 */
public final class GuardedHttpConnectionFactory extends HttpConnectionFactory {
    private final Duration headDeadline;

    public GuardedHttpConnectionFactory(HttpConfiguration config, Duration headDeadline) {
        super(config);
        this.headDeadline = headDeadline;
    }

    @Override
    public Connection newConnection(Connector connector, EndPoint endPoint) {
        GuardedHttpConnection connection = new GuardedHttpConnection(getHttpConfiguration(), connector, endPoint, headDeadline);
        connection.setUseInputDirectByteBuffers(isUseInputDirectByteBuffers());
        connection.setUseOutputDirectByteBuffers(isUseOutputDirectByteBuffers());
        return configure(connection, connector, endPoint);
    }
}
