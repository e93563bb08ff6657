package dev.rainbowd.proxy;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.io.Content;

/**
 * Bytes held for a peer that is not ready for them, in order: the first {@link #MEMORY} bytes as
 * the chunks they came in (retained, not copied), the rest in a temp file in the state directory.
 * The file is unlinked as soon as it is open: nothing is left behind whatever happens to the
 * daemon, and nobody else can open it. Not thread-safe: its user serialises.
 *
 * <p>Read either as a queue ({@link #take}, a response on its way to a slow reader) or, any number
 * of times, from the start ({@link #reader}, a request body that may be sent twice).
 */
final class Spool implements Closeable {
    /** Held in memory before the file is used: nginx's client_body_buffer_size is 16 KB; JSON bodies fit here. */
    static final int MEMORY = 64 * 1024;
    /** The size of what is read back from the file at a time. */
    private static final int READ = 32 * 1024;

    private final Path dir;
    private final ArrayDeque<Content.Chunk> memory = new ArrayDeque<>();
    private int inMemory;
    private FileChannel file;
    private long fileRead;
    private long fileWrite;
    private long size;
    private long total;
    private boolean closed;

    Spool(Path dir) {
        this.dir = dir;
    }

    /** Holds the chunk's bytes (the chunk is retained or copied: the caller still releases its own). */
    void append(Content.Chunk chunk) throws IOException {
        if (closed) throw new IOException("spool closed");
        ByteBuffer b = chunk.getByteBuffer();
        int n = b.remaining();
        if (n == 0) return;
        // In memory only while the file is empty: else these bytes would overtake the file's.
        if (fileRead == fileWrite && inMemory + n <= MEMORY) {
            chunk.retain();
            memory.add(chunk);
            inMemory += n;
        } else {
            if (file == null) file = open(dir);
            ByteBuffer src = b.slice();
            while (src.hasRemaining()) fileWrite += file.write(src, fileWrite);
        }
        size += n;
        total += n;
    }

    /** Bytes held now (taken ones not counted). */
    long size() {
        return size;
    }

    /** Bytes appended in all. */
    long total() {
        return total;
    }

    /** The oldest bytes held, taken out (the caller releases the chunk), or null if none. */
    Content.Chunk take() throws IOException {
        Content.Chunk c = memory.poll();
        if (c != null) {
            int n = c.getByteBuffer().remaining();
            inMemory -= n;
            size -= n;
            return c;
        }
        if (fileRead == fileWrite) return null;
        ByteBuffer b = readFile(fileRead);
        fileRead += b.remaining();
        size -= b.remaining();
        if (fileRead == fileWrite) {
            // Drained: the next bytes may go to memory again, and the file starts over.
            fileRead = fileWrite = 0;
            file.truncate(0);
        }
        return Content.Chunk.from(b, false);
    }

    /** Everything appended, from the start, without taking it: for a spool that is only appended to, then read. */
    Reader reader() {
        return new Reader();
    }

    /** Releases the chunks and closes the file (which goes with it). */
    @Override
    public void close() {
        closed = true;
        for (Content.Chunk c; (c = memory.poll()) != null; ) c.release();
        inMemory = 0;
        size = 0;
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) { // an unlinked file: closing frees it whatever this says
            }
            file = null;
        }
    }

    /** Up to {@link #READ} bytes of the file from {@code from}, in a buffer of their own. */
    private ByteBuffer readFile(long from) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(READ, fileWrite - from));
        while (b.hasRemaining()) {
            if (file.read(b, from + b.position()) < 0) throw new IOException("spool file shorter than written");
        }
        return b.flip();
    }

    private static FileChannel open(Path dir) throws IOException {
        Path p = Files.createTempFile(dir, "spool-", "", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            return FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } finally {
            Files.delete(p);
        }
    }

    /** One reading of everything appended, from the start. */
    final class Reader {
        private final List<ByteBuffer> held = new ArrayList<>();
        private int next;
        private long filePos;

        private Reader() {
            for (Content.Chunk c : memory) held.add(c.getByteBuffer().slice());
        }

        /** The next bytes (their own buffer, nothing to release), or null at the end. */
        ByteBuffer read() throws IOException {
            if (next < held.size()) return held.get(next++).slice();
            if (filePos == fileWrite) return null;
            ByteBuffer b = readFile(filePos);
            filePos += b.remaining();
            return b;
        }
    }
}
