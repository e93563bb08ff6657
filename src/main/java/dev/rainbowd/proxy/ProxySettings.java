package dev.rainbowd.proxy;

import dev.rainbowd.config.Buffering;
import java.net.InetAddress;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * The proxy's share of the config in force (the live generation's), read per request: one
 * immutable value, switched in one step with the rest at a cutover.
 *
 * @param queueTimeout how long a request waits for a live generation
 * @param tunnelIdleTimeout how long a tunnel (WebSocket) may carry no byte either way
 * @param trustedProxy peers whose X-Forwarded-Proto and -Host are kept
 * @param upstreamKeepAliveAll requests that cannot be sent twice may go on pooled connections too
 * @param buffering request bodies read whole first, their limit, how far a response may run ahead
 */
public record ProxySettings(Duration queueTimeout, Duration tunnelIdleTimeout, Predicate<InetAddress> trustedProxy,
        boolean upstreamKeepAliveAll, Buffering buffering) {

    /** The config file's defaults. */
    public static final ProxySettings DEFAULT = new ProxySettings(Duration.ofSeconds(30), Duration.ofHours(1),
            InetAddress::isLoopbackAddress, false, Buffering.DEFAULT);

    public ProxySettings withQueueTimeout(Duration timeout) {
        return new ProxySettings(timeout, tunnelIdleTimeout, trustedProxy, upstreamKeepAliveAll, buffering);
    }

    public ProxySettings withTrustedProxy(Predicate<InetAddress> trusted) {
        return new ProxySettings(queueTimeout, tunnelIdleTimeout, trusted, upstreamKeepAliveAll, buffering);
    }

    public ProxySettings withUpstreamKeepAliveAll(boolean all) {
        return new ProxySettings(queueTimeout, tunnelIdleTimeout, trustedProxy, all, buffering);
    }

    public ProxySettings withBuffering(Buffering b) {
        return new ProxySettings(queueTimeout, tunnelIdleTimeout, trustedProxy, upstreamKeepAliveAll, b);
    }
}
