package dev.rainbowd.proxy;

import org.eclipse.jetty.client.ConnectionPool;
import org.eclipse.jetty.client.Destination;
import org.eclipse.jetty.client.DuplexConnectionPool;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;

/**
 * The upstream client's connection pools: one of kept-alive connections per app port, and one
 * whose connections each carry a single request ({@link #fresh}).
 *
 * <p>An app server may close a kept-alive connection at any moment after a response, without
 * {@code Connection: close} (hypercorn, and uvicorn under an async Starlette endpoint, do so when
 * the app answered before the server had processed the request's end). A request sent on it then
 * fails, and it cannot be told whether the app had started on it. Only a connection opened for the
 * request rules that out.
 */
final class UpstreamPools implements ConnectionPool.Factory {
    /** Jetty pools connections per origin and tag: requests with this tag have a pool of their own. */
    private static final Object FRESH = "fresh";

    private final HttpClient client;

    UpstreamPools(HttpClient client) {
        this.client = client;
    }

    /** Sends {@code upstream} on a connection opened for it, and closed after it. */
    static void fresh(Request upstream) {
        upstream.tag(FRESH);
    }

    @Override
    public ConnectionPool newConnectionPool(Destination destination) {
        int max = client.getMaxConnectionsPerDestination();
        if (FRESH.equals(destination.getOrigin().getTag())) {
            DuplexConnectionPool pool = new DuplexConnectionPool(destination, max);
            // A connection is used once, then closed (not released to idle): never a kept-alive one.
            pool.setMaxUsage(1);
            return pool;
        }
        return new DuplexConnectionPool(destination, max);
    }
}
