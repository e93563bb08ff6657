package dev.rainbowd.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.eclipse.jetty.http.BadMessageException;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * A request whose body was read whole before the app sees it, as nginx does
 * ({@code proxy_request_buffering on}): a slow upload holds a rainbowd connection, never an app
 * worker (gunicorn's sync workers, a single-threaded app), and the app gets the body with a
 * {@code Content-Length}, also when the client sent it chunked (a WSGI app that reads
 * {@code CONTENT_LENGTH} saw no body). Its body can be read again from the start, so an
 * idempotent request with a body can be sent twice, as one without.
 */
final class BufferedRequest extends Request.Wrapper {
    private final Spool body;
    private final HttpFields headers;
    private Spool.Reader reader;

    private BufferedRequest(Request request, Spool body) {
        super(request);
        this.body = body;
        // Expect: 100-continue was answered when the body was read (by Jetty, at the first read);
        // a chunked body now has its length.
        this.headers = HttpFields.build(request.getHeaders())
                .remove(HttpHeader.EXPECT)
                .remove(HttpHeader.TRANSFER_ENCODING)
                .put(HttpHeader.CONTENT_LENGTH, body.total())
                .asImmutable();
        this.reader = body.reader();
    }

    /** What becomes of a body being read. */
    interface Outcome {
        void buffered(BufferedRequest request);

        /** The client's fault or our limit: answer {@code status}, and close (the stream's framing is unknown). */
        void refused(int status, String reason);

        /** The client went away: nothing to answer. */
        void failed(Throwable failure);
    }

    /**
     * Reads {@code request}'s body into a spool in {@code dir}, without holding a thread while it
     * waits for bytes, then tells {@code outcome}. {@code max} > 0 bounds the body.
     */
    static void read(Request request, Path dir, long max, Outcome outcome) {
        new Loop(request, new Spool(dir), max, outcome).run();
    }

    /** The spool's bytes are this request's until it ends. */
    void close() {
        body.close();
    }

    /** The body from the start: the next attempt at sending it (a replay) sends it whole. */
    @Override
    public boolean rewind() {
        reader = body.reader();
        return true;
    }

    @Override
    public HttpFields getHeaders() {
        return headers;
    }

    @Override
    public long getLength() {
        return body.total();
    }

    @Override
    public Content.Chunk read() {
        try {
            ByteBuffer b = reader.read();
            return b == null ? Content.Chunk.EOF : Content.Chunk.from(b, false);
        } catch (IOException e) {
            return Content.Chunk.from(e);
        }
    }

    /** There is always something to read (bytes or the end). */
    @Override
    public void demand(Runnable demandCallback) {
        demandCallback.run();
    }

    /** The app's side failed: the client's body was read long ago, there is nothing of it to fail. */
    @Override
    public void fail(Throwable failure) {
    }

    /** Reads until the last chunk, parking on demand when no byte is there. */
    private static final class Loop implements Runnable {
        private final Request request;
        private final Spool spool;
        private final long max;
        private final Outcome outcome;

        Loop(Request request, Spool spool, long max, Outcome outcome) {
            this.request = request;
            this.spool = spool;
            this.max = max;
            this.outcome = outcome;
        }

        @Override
        public void run() {
            while (true) {
                Content.Chunk chunk = request.read();
                if (chunk == null) {
                    request.demand(this);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    spool.close();
                    Throwable x = chunk.getFailure();
                    // A malformed chunk is the client's (400, not a 502 that blames the app).
                    if (x instanceof BadMessageException bad) outcome.refused(bad.getCode(), bad.getReason());
                    else outcome.failed(x);
                    return;
                }
                try {
                    spool.append(chunk);
                } catch (IOException e) {
                    spool.close();
                    // As nginx: 500 when its client_body_temp cannot be written (a full disk).
                    outcome.refused(HttpStatus.INTERNAL_SERVER_ERROR_500, "cannot buffer the request body: " + e.getMessage());
                    return;
                } finally {
                    chunk.release();
                }
                if (max > 0 && spool.total() > max) {
                    spool.close();
                    outcome.refused(HttpStatus.PAYLOAD_TOO_LARGE_413, "request body over maxRequestBody (" + max + " bytes)");
                    return;
                }
                if (chunk.isLast()) {
                    outcome.buffered(new BufferedRequest(request, spool));
                    return;
                }
            }
        }
    }
}
