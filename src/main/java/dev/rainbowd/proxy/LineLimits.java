package dev.rainbowd.proxy;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.BadMessageException;
import org.eclipse.jetty.http.ComplianceViolation;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.HttpVersion;

/**
 * nginx's limit on one line of a request head ({@code large_client_header_buffers 4 8k}): a
 * request line longer than 8 KB is 414, a header line longer than 8 KB is 400, each with its
 * CRLF. Jetty limits only the head's total (32 KB), so a single 9 KB line reached the app where
 * nginx in the same place refuses it. The parser hands the connection each line as it completes
 * it; this stands between them. A header line is counted as {@code name: value} plus its CRLF
 * (the parser drops the spaces around the value): a client that sent more spaces gets a few bytes
 * more than nginx would allow it.
 */
final class LineLimits implements HttpParser.RequestHandler {
    static final int MAX_LINE = 8 * 1024;

    private final HttpParser.RequestHandler connection;
    /** The line's bytes as sent: Jetty's target is their UTF-8 decoding, fewer chars than bytes. */
    private final RequestLine line;

    LineLimits(HttpParser.RequestHandler connection, RequestLine line) {
        this.connection = connection;
        this.line = line;
    }

    @Override
    public void startRequest(String method, String uri, HttpVersion version) {
        if (line.length() + 2 > MAX_LINE) throw new BadMessageException(HttpStatus.URI_TOO_LONG_414, "request line over 8 KB");
        connection.startRequest(method, uri, version);
    }

    @Override
    public void parsedHeader(HttpField field) {
        String value = field.getValue();
        int length = field.getName().length() + 2 + (value == null ? 0 : value.length()) + 2;
        if (length > MAX_LINE) throw new BadMessageException("header line over 8 KB: " + field.getName());
        connection.parsedHeader(field);
    }

    @Override
    public void messageBegin() {
        connection.messageBegin();
    }

    @Override
    public boolean content(ByteBuffer item) {
        return connection.content(item);
    }

    @Override
    public boolean headerComplete() {
        return connection.headerComplete();
    }

    @Override
    public boolean contentComplete() {
        return connection.contentComplete();
    }

    @Override
    public boolean messageComplete() {
        return connection.messageComplete();
    }

    @Override
    public void parsedTrailer(HttpField field) {
        connection.parsedTrailer(field);
    }

    @Override
    public void earlyEOF() {
        connection.earlyEOF();
    }

    @Override
    public void onViolation(ComplianceViolation.Event event) {
        connection.onViolation(event);
    }

    @Override
    public void badMessage(HttpException failure) {
        connection.badMessage(failure);
    }
}
