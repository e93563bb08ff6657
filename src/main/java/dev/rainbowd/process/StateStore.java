package dev.rainbowd.process;

import dev.rainbowd.config.StopSignal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What rainbowd has launched, on disk in {@code stateDir}, so that a daemon killed with SIGKILL
 * leaves no orphan: the next start finds the generations it had launched and stops them before
 * launching its own.
 *
 * <p>The file is rewritten whole on every change, atomically (temp file, fsync, rename, fsync of
 * the directory): after a crash it holds either the old list or the new one. One line per
 * generation: {@code number pid startMillis appPid port}. The root's start time makes sure a
 * recycled pid is never signalled.
 */
public final class StateStore {
    private static final Logger log = LoggerFactory.getLogger(StateStore.class);

    /** The environment variable that marks a generation as this state directory's rainbowd's. */
    static final String DAEMON_ID = "RAINBOW_DAEMON_ID";

    private final Path file;
    private final Path temp;
    private final String daemonId;

    public StateStore(Path stateDir, String daemonId) {
        this.file = stateDir.resolve("generations");
        this.temp = stateDir.resolve("generations.tmp");
        this.daemonId = daemonId;
    }

    /** One generation as recorded. */
    record Entry(int number, long pid, long startMillis, long appPid, int port) {}

    /** Records exactly these generations (those launched and not yet stopped). */
    public synchronized void save(Collection<Generation> running) {
        StringBuilder out = new StringBuilder("# rainbowd generations: number pid startMillis appPid port\n");
        for (Generation g : running) {
            Entry e = g.stateEntry();
            out.append(e.number()).append(' ').append(e.pid()).append(' ').append(e.startMillis()).append(' ')
                    .append(e.appPid()).append(' ').append(e.port()).append('\n');
        }
        try {
            // A new file, never one found there: a link planted as the temp name would be written through.
            Files.deleteIfExists(temp);
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS)) {
                ch.write(ByteBuffer.wrap(out.toString().getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                dir.force(true); // the rename itself survives a power cut
            } catch (IOException e) {
                // not every file system lets a directory be opened; the rename is atomic regardless
            }
        } catch (IOException e) {
            log.error("cannot record generations in {}: {} (a killed daemon could leave orphans)", file, e.toString());
        }
    }

    List<Entry> load() throws IOException {
        List<Entry> entries = new ArrayList<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return entries;
        }
        for (String line : lines) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.trim().split("\\s+");
            try {
                entries.add(new Entry(Integer.parseInt(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]),
                        Long.parseLong(f[3]), Integer.parseInt(f[4])));
            } catch (RuntimeException e) {
                log.warn("{}: ignoring a line I cannot read: {}", file, line);
            }
        }
        return entries;
    }

    /**
     * Stops what a previous daemon with this stateDir launched and did not stop (it was killed).
     * Each recorded root must still be the same process (same start time) to be touched; a root
     * that is gone still leaves its session to clean up (a session id is not reused while any
     * member lives). {@code signal} is the config's stopSignal: the state does not record one, and
     * the app server a restarted daemon runs is most likely the one its predecessor ran.
     */
    public void stopOrphans(StopSignal signal, Duration stopTimeout) throws IOException {
        for (Entry e : load()) {
            ProcessHandle root = ProcessHandle.of(e.pid()).orElse(null);
            if (root != null && !sameProcess(root, e.startMillis())) continue; // the pid was recycled
            ProcessTree tree = new ProcessTree(e.pid(), root);
            List<ProcessHandle> members = tree.members();
            if (members.isEmpty()) continue;
            long target = e.appPid() > 0 && tree.contains(e.appPid()) ? e.appPid() : e.pid();
            // A pid and a start time are public (/proc/PID/stat): only our mark in the environment,
            // readable by the process's own user alone, proves the process is one we launched.
            if (members.stream().noneMatch(p -> launchedHere(p.pid(), e.number()))) {
                log.warn("generation {} pid {}: recorded in {} but its processes do not carry this rainbowd's {}; "
                        + "leaving them alone", e.number(), target, file, DAEMON_ID);
                continue;
            }
            log.warn("generation {} port {} pid {}: left running by a daemon that was killed; stopping it ({} process(es))",
                    e.number(), e.port(), target, members.size());
            int killed = tree.terminate(target, signal, stopTimeout);
            log.info("generation {} port {}: orphan stopped{}", e.number(), e.port(),
                    killed > 0 ? " (" + killed + " needed SIGKILL)" : "");
        }
        save(List.of());
    }

    /** Whether the environment pid started with holds our id and the generation's number. */
    boolean launchedHere(long pid, int generation) {
        byte[] environ;
        try {
            environ = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "environ"));
        } catch (IOException | SecurityException e) {
            return false; // gone, or another user's: not ours either way
        }
        boolean ours = false;
        boolean number = false;
        for (String var : new String(environ, StandardCharsets.UTF_8).split("\0")) {
            if (var.equals(DAEMON_ID + "=" + daemonId)) ours = true;
            if (var.equals("RAINBOW_GENERATION=" + generation)) number = true;
        }
        return ours && number;
    }

    static boolean sameProcess(ProcessHandle p, long startMillis) {
        return p.info().startInstant().map(Instant::toEpochMilli).map(m -> Math.abs(m - startMillis) < 1_000).orElse(false);
    }
}
