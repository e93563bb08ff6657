package dev.rainbowd.proxy;

import java.nio.file.Path;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;

/**
 * A response on its way to a client that may read slower than the app writes. Jetty's proxy reads
 * the app's next bytes only once the client has taken the last ones: a client that reads slowly,
 * or not at all, held an app worker for as long as it liked (gunicorn's sync workers: two such
 * clients of a 50 MB download and a two-worker app served nobody else). Here the app's bytes are
 * read as they come and held (memory, then a temp file: {@link Spool}) up to {@code max} ahead of
 * the client, as nginx's {@code proxy_buffering} does, so the app is done with a response as soon
 * as it has written it. Nothing waits for the buffer to fill: each byte goes to the client as soon
 * as the client takes it, so streams (SSE, long polls) are not delayed. Past {@code max} the app
 * waits for the client again.
 */
final class ResponseBuffer extends IteratingCallback {
    /** The client's response: only written to. */
    private final Content.Sink client;
    private final Response upstream;
    /** Completed when the client has the whole response, or failed when it cannot get it. */
    private final Callback done;
    private final long max;
    private final Spool spool;

    // Guarded by this.
    private Content.Chunk writing;
    private Runnable withheld;
    private boolean ended;
    private boolean lastWritten;
    private boolean closed;

    ResponseBuffer(Content.Sink client, Response upstream, Path dir, long max, Callback done) {
        this.client = client;
        this.upstream = upstream;
        this.max = max;
        this.done = done;
        this.spool = new Spool(dir);
    }

    /** The app's next bytes (the caller keeps and releases its own reference); {@code demand} asks for more. */
    void content(Content.Chunk chunk, Runnable demand) {
        boolean full;
        try {
            synchronized (this) {
                if (closed) return; // the client is gone: the app's side is being aborted
                spool.append(chunk);
                full = spool.size() >= max;
                if (full) withheld = demand;
            }
        } catch (Exception e) { // the state directory is full: the response cannot go on
            upstream.abort(e);
            return;
        }
        iterate();
        if (!full) demand.run();
    }

    /** The app's response is complete. */
    void end() {
        synchronized (this) {
            ended = true;
        }
        iterate();
    }

    @Override
    protected Action process() throws Throwable {
        Content.Chunk next;
        boolean last = false;
        Runnable resume = null;
        synchronized (this) {
            if (writing != null) {
                writing.release();
                writing = null;
            }
            if (lastWritten) return Action.SUCCEEDED;
            next = spool.take();
            if (withheld != null && spool.size() < max) {
                resume = withheld;
                withheld = null;
            }
            if (next == null && ended) last = lastWritten = true;
            writing = next;
        }
        if (resume != null) resume.run();
        if (next == null && !last) return Action.IDLE;
        client.write(last, last ? BufferUtil.EMPTY_BUFFER : next.getByteBuffer(), this);
        return Action.SCHEDULED;
    }

    @Override
    protected void onCompleteSuccess() {
        synchronized (this) {
            closed = true;
            spool.close();
        }
        done.succeeded();
    }

    /** The client cannot take the response (it went away): the app's side goes too. */
    @Override
    protected void onCompleteFailure(Throwable failure) {
        synchronized (this) {
            closed = true;
            if (writing != null) writing.release();
            writing = null;
            spool.close();
        }
        upstream.abort(failure);
        done.failed(failure);
    }

    @Override
    public InvocationType getInvocationType() {
        return InvocationType.NON_BLOCKING;
    }
}
