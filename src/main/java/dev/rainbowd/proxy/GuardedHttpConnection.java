package dev.rainbowd.proxy;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.eclipse.jetty.http.BadMessageException;
import org.eclipse.jetty.http.HttpCompliance;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.BufferUtil;

/**
 * Jetty's HTTP/1 server connection, with its parser watched for what nginx does and Jetty does not:
 * a request line nginx refuses for its case ({@link RequestLine}) gets 400 and the connection
 * closes, a line of the head has nginx's 8 KB at most ({@link LineLimits}), and each request head
 * has a deadline ({@link HeadDeadline}). Watching the parser's reads is
 * the one place that sees the version as sent (Jetty's parser hands on a version it matched
 * ignoring case) and sees when a head's first byte arrives and when the head is complete; no
 * compliance mode covers either (a method is already case-sensitive in RFC7230 mode, and the
 * client library upper-cases it on the way out).
 */
final class GuardedHttpConnection extends HttpConnection {
    private final HeadDeadline deadline;
    /** Set by newHttpParser(), which HttpConnection's constructor calls: no initializer, or it would be replaced after. */
    private RequestLine line;
    /** The last request (its stream's id) whose target came in bytes that are not UTF-8, or null. */
    private volatile RawTarget rawTarget;

    private record RawTarget(String request, byte[] bytes) {}
    /** Set by newRequestHandler(), which HttpConnection's constructor calls before newHttpParser(). */
    private RequestHandler handler;

    GuardedHttpConnection(HttpConfiguration config, Connector connector, EndPoint endPoint, Duration headDeadline) {
        super(config, connector, endPoint);
        deadline = new HeadDeadline(this, connector.getScheduler(), headDeadline);
    }

    @Override
    protected RequestHandler newRequestHandler() {
        handler = super.newRequestHandler();
        return handler;
    }

    @Override
    protected HttpParser newHttpParser(HttpCompliance compliance) {
        line = new RequestLine();
        HttpParser parser = new WatchedParser(new LineLimits(handler, line), getHttpConfiguration().getRequestHeaderSize(), compliance);
        parser.setHeaderCacheSize(getHttpConfiguration().getHeaderCacheSize());
        parser.setHeaderCacheCaseSensitive(getHttpConfiguration().isHeaderCacheCaseSensitive());
        return parser;
    }

    /** Notes the target's bytes for the request this stream carries, when Jetty's string of them is not those bytes. */
    @Override
    protected HttpStreamOverHTTP1 newHttpStream(String method, String uri, HttpVersion version) {
        HttpStreamOverHTTP1 stream = super.newHttpStream(method, uri, version);
        byte[] raw = line.rawTarget();
        rawTarget = raw == null ? null : new RawTarget(stream.getId(), raw);
        return stream;
    }

    /**
     * The request-target of request {@code id} (a {@link org.eclipse.jetty.server.Request#getId()} of
     * this connection) as its bytes came, when they are not UTF-8; else null, and the request's
     * own target is right.
     */
    byte[] rawTarget(String id) {
        RawTarget raw = rawTarget;
        return raw != null && raw.request().equals(id) ? raw.bytes() : null;
    }

    @Override
    public void onOpen() {
        deadline.opened();
        super.onOpen();
    }

    @Override
    public void onClose(Throwable cause) {
        deadline.closed();
        super.onClose(cause);
    }

    private final class WatchedParser extends HttpParser {

        WatchedParser(HttpParser.RequestHandler handler, int maxHeaderBytes, HttpCompliance compliance) {
            super(handler, maxHeaderBytes, compliance);
        }

        @Override
        public boolean parseNext(ByteBuffer buffer) {
            if (isStart()) {
                line.restart();
                if (buffer.hasRemaining()) deadline.begins();
            }
            if (getState().ordinal() < State.HEADER.ordinal()) {
                String refused = line.scan(buffer);
                if (refused != null) {
                    // As the parser does with a request it cannot read: 400, and the connection closes.
                    BufferUtil.clear(buffer);
                    badMessage(new BadMessageException(refused));
                    deadline.complete();
                    return false;
                }
            }
            boolean handled = super.parseNext(buffer);
            if (inHeaderState()) {
                deadline.incomplete();
            } else {
                deadline.complete();
            }
            return handled;
        }
    }
}
