package dev.rainbowd.proxy;

import java.io.IOException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import org.eclipse.jetty.server.Request;

/**
 * Whether a client has closed (or reset) the connection its request came on, told without reading
 * from it. While a request is being handled nobody reads the client's socket, and a read there
 * would take bytes of the body or of a pipelined next request, which belong to Jetty. Instead: the
 * socket is readable, yet has no byte to read, so what is pending is the end of the stream (or a
 * reset). A client that sent more (a body Jetty has not read yet, a pipelined request) counts as
 * present.
 *
 * <p>A second selector on the channel (a channel may be registered with several) costs an epoll
 * instance per check, so this is for the rare path only: requests that waited for a generation.
 */
final class ClientHangUp {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClientHangUp.class);

    private ClientHangUp() {
    }

    static boolean seen(Request request) {
        if (!(request.getConnectionMetaData().getConnection().getEndPoint().getTransport() instanceof SocketChannel channel)) {
            return false;
        }
        if (!channel.isOpen()) return true;
        try (Selector selector = Selector.open()) {
            channel.register(selector, SelectionKey.OP_READ);
            return selector.selectNow() > 0 && channel.socket().getInputStream().available() == 0;
        } catch (IOException e) { // closed under us, or reset: either way nobody is there
            log.debug("client connection check failed: {}", e.toString());
            return true;
        }
    }
}
