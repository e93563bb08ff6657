package dev.rainbowd.proxy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.IdleTimeout;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.IteratingCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One direction of a {@link Tunnel}: reads what arrives on its own endpoint and writes it to the
 * peer's. It reads again only once the write has completed, so a slow reader on one side stops
 * the reading on the other (TCP's own flow control then reaches the sender): one buffer per
 * direction, never a queue. An EOF is passed on as a half-close. Learnt from Jetty's ConnectHandler.
 */
final class TunnelConnection extends AbstractConnection implements Connection.UpgradeTo {
    private static final Logger log = LoggerFactory.getLogger(TunnelConnection.class);
    private static final int BUFFER_SIZE = 16 * 1024;

    private final Tunnel tunnel;
    private final ByteBufferPool buffers;
    private final Pipe pipe = new Pipe();
    private TunnelConnection peer;
    /** Bytes that arrived with the handshake, before this connection took the endpoint over. */
    private ByteBuffer prefilled;

    TunnelConnection(Tunnel tunnel, EndPoint endPoint, Executor executor, ByteBufferPool buffers) {
        super(endPoint, executor);
        this.tunnel = tunnel;
        this.buffers = buffers;
    }

    void peer(TunnelConnection peer) {
        this.peer = peer;
    }

    /** The app's first frame may arrive in the same read as its 101; the client may send right after its request. */
    @Override
    public void onUpgradeTo(ByteBuffer buffer) {
        if (BufferUtil.hasContent(buffer)) {
            prefilled = BufferUtil.allocate(buffer.remaining());
            BufferUtil.append(prefilled, buffer);
        }
    }

    /** Starts piping: called by the tunnel once both ends are in place (the client's after the 101 went out). */
    void start() {
        ByteBuffer first = prefilled;
        prefilled = null;
        if (first == null) {
            fillInterested();
            return;
        }
        peer.getEndPoint().write(Callback.from(this::fillInterested, this::disconnect), first);
    }

    @Override
    public void onOpen() {
        super.onOpen();
        tunnel.opened(this);
    }

    /**
     * The listener's graceful shutdown cuts every endpoint's idle timeout to a second; a tunnel is
     * ended by its app's own stop instead (see Daemon.close), or when it has really been idle for
     * the tunnel idle timeout.
     */
    @Override
    public boolean onIdleExpired(TimeoutException timeout) {
        return getEndPoint() instanceof IdleTimeout t ? t.getIdleFor() >= tunnel.idleTimeoutMillis() : true;
    }

    @Override
    public void onFillable() {
        pipe.iterate();
    }

    /** A fill and a write to the peer never block: run them on the selector thread that saw the bytes, not handed to the pool. */
    @Override
    public InvocationType getInvocationType() {
        return InvocationType.NON_BLOCKING;
    }

    @Override
    public void onClose(Throwable cause) {
        super.onClose(cause);
        tunnel.closed(this);
    }

    private void disconnect(Throwable failure) {
        log.debug("tunnel {}: {}", tunnel, failure.toString());
        getEndPoint().close(failure);
        peer.getEndPoint().close(failure);
    }

    /** Fill, write to the peer, repeat once written; idle when nothing is there to read. */
    private final class Pipe extends IteratingCallback {
        private RetainableByteBuffer buffer;

        @Override
        protected Action process() {
            buffer = buffers.acquire(BUFFER_SIZE, false);
            ByteBuffer bytes = buffer.getByteBuffer();
            int filled;
            try {
                filled = getEndPoint().fill(bytes);
            } catch (IOException e) {
                buffer.release();
                disconnect(e);
                return Action.SUCCEEDED;
            }
            if (filled > 0) {
                peer.getEndPoint().write(this, bytes);
                return Action.SCHEDULED;
            }
            buffer.release();
            if (filled == 0) {
                fillInterested();
                return Action.IDLE;
            }
            // EOF: the other side may still have things to say (a WebSocket close handshake).
            peer.getEndPoint().shutdownOutput();
            return Action.SUCCEEDED;
        }

        /** A completed write to the peer fills again (non-blocking) on the thread that completed it, as Jetty's ConnectHandler. */
        @Override
        public InvocationType getInvocationType() {
            return InvocationType.NON_BLOCKING;
        }

        @Override
        protected void onSuccess() {
            buffer.release();
        }

        @Override
        protected void onCompleteFailure(Throwable failure) {
            buffer.release();
            disconnect(failure);
        }
    }
}
