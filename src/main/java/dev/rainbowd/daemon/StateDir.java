package dev.rainbowd.daemon;

import dev.rainbowd.daemon.Daemon.StartupException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The state directory, made and checked before anything in it is trusted. What is in it (the
 * list of generations, pids) decides which processes rainbowd signals at start, so a directory
 * anyone else could have made or written is refused: with the default in /tmp, another user could
 * otherwise plant a victim's pid there, or links to files of ours. Made 0700; the lock and the id
 * are opened without following links.
 */
final class StateDir implements AutoCloseable {
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");
    static final String PID_FILE = "rainbowd.pid";

    private final Path path;
    private final FileLock lock;
    private final String daemonId;

    private StateDir(Path path, FileLock lock, String daemonId) {
        this.path = path;
        this.lock = lock;
        this.daemonId = daemonId;
    }

    static StateDir open(Path dir) throws StartupException {
        make(dir);
        check(dir);
        writeTest(dir);
        FileLock lock = lock(dir);
        try {
            StateDir opened = new StateDir(dir, lock, daemonId(dir));
            writePid(dir);
            return opened;
        } catch (StartupException e) {
            release(lock);
            throw e;
        }
    }

    Path path() {
        return path;
    }

    /**
     * This state directory's rainbowd, across its restarts: every generation gets it in its
     * environment, and a process is stopped as an orphan only if its environment holds it. It is
     * in a file only this user can read.
     */
    String daemonId() {
        return daemonId;
    }

    private static void make(Path dir) throws StartupException {
        try {
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) Files.createDirectories(parent);
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE));
            } catch (FileAlreadyExistsException e) {
                // checked below, whoever made it
            }
        } catch (IOException | SecurityException e) {
            throw new StartupException("stateDir " + dir + " is not writable: " + Daemon.rootMessage(e));
        }
    }

    private static void check(Path dir) throws StartupException {
        PosixFileAttributes a;
        int owner;
        int me;
        try {
            a = Files.readAttributes(dir, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            me = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            throw new StartupException("stateDir " + dir + " cannot be checked: " + Daemon.rootMessage(e));
        }
        if (a.isSymbolicLink()) {
            throw new StartupException("stateDir " + dir + " is a symbolic link; refusing it (it could lead anywhere):"
                    + " remove it, or set stateDir to a directory of this user's");
        }
        if (!a.isDirectory()) throw new StartupException("stateDir " + dir + " is not a directory");
        if (owner != me) {
            throw new StartupException("stateDir " + dir + " belongs to uid " + owner + ", not to this user (uid " + me
                    + "); refusing it (whoever made it could plant pids for rainbowd to stop): remove it, or set stateDir");
        }
        Set<PosixFilePermission> p = a.permissions();
        if (p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new StartupException("stateDir " + dir + " is writable by group or others ("
                    + PosixFilePermissions.toString(p) + "); refusing it: chmod go-w it, or set another stateDir");
        }
    }

    /** A byte written and synced, not just a name: a full disk fails here, at start. */
    private static void writeTest(Path dir) throws StartupException {
        try {
            Path probe = Files.createTempFile(dir, ".write-test", ".tmp");
            try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                ch.write(ByteBuffer.wrap(new byte[] {'\n'}));
                ch.force(true);
            } finally {
                Files.delete(probe);
            }
        } catch (IOException | SecurityException e) {
            throw new StartupException("stateDir " + dir + " is not writable: " + Daemon.rootMessage(e));
        }
    }

    /**
     * Before anything reads the state: a second rainbowd started on the same config (someone
     * debugging) must not take the first one's generations for orphans and stop them.
     */
    private static FileLock lock(Path dir) throws StartupException {
        try {
            FileChannel ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // held by this very JVM
            }
            if (lock == null) {
                ch.close();
                throw new StartupException("another rainbowd is running with stateDir " + dir + " (same config?)");
            }
            return lock;
        } catch (IOException e) {
            throw new StartupException("cannot lock stateDir " + dir + ": " + Daemon.rootMessage(e));
        }
    }

    private static String daemonId(Path dir) throws StartupException {
        Path file = dir.resolve("id");
        try {
            try {
                String id = new String(readNoFollow(file), StandardCharsets.US_ASCII).strip();
                if (id.matches("[0-9a-f]{32}")) return id;
                Files.delete(file); // unreadable: a new one (the orphans of an old one are then left alone)
            } catch (NoSuchFileException e) {
                // the first start with this stateDir
            }
            byte[] random = new byte[16];
            new SecureRandom().nextBytes(random);
            String id = HexFormat.of().formatHex(random);
            try (FileChannel ch = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
                ch.write(ByteBuffer.wrap((id + "\n").getBytes(StandardCharsets.US_ASCII)));
                ch.force(true);
            }
            return id;
        } catch (IOException e) {
            throw new StartupException("cannot keep the daemon id in " + file + ": " + Daemon.rootMessage(e));
        }
    }

    /**
     * {@code rainbowd.pid}: {@code kill -HUP $(cat STATEDIR/rainbowd.pid)} names this daemon alone, where
     * {@code pidof rainbowd} names every one on the host. Written once the lock is ours (a second
     * rainbowd, refused, leaves the first one's alone), renamed into place whole, removed at exit.
     */
    private static void writePid(Path dir) throws StartupException {
        Path file = dir.resolve(PID_FILE);
        try {
            Path tmp = Files.createTempFile(dir, ".rainbowd.pid", ".tmp");
            try {
                Files.writeString(tmp, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException | SecurityException e) {
            throw new StartupException("cannot write " + file + ": " + Daemon.rootMessage(e));
        }
    }

    private static byte[] readNoFollow(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer b = ByteBuffer.allocate(256);
            while (b.hasRemaining() && ch.read(b) > 0) {
                // a line of 33 bytes
            }
            b.flip();
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        }
    }

    @Override
    public void close() {
        try {
            Files.deleteIfExists(path.resolve(PID_FILE)); // before the lock goes: the next rainbowd writes its own
        } catch (IOException e) {
            // a stale pid file: the next start replaces it
        }
        release(lock);
    }

    private static void release(FileLock lock) {
        try {
            lock.channel().close(); // releases the lock
        } catch (IOException e) {
            // the process is ending anyway
        }
    }
}
