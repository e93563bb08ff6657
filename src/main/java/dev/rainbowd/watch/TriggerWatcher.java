package dev.rainbowd.watch;

import dev.rainbowd.deploy.Trigger;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts redeploys from the filesystem: a trigger file that is created or touched, and a
 * {@code current}-style release link whose target changes.
 *
 * <p>Both are watched through their parent directory, never the link itself (a watch on the link
 * follows it into the old release and sees nothing of a swap). This uses the JDK WatchService
 * (inotify on Linux) rather than io.methvin's directory-watcher: we need exactly one directory
 * each, not recursively (a link's parent holds every release, thousands of files), and the events
 * name the entry, so no content hashing is needed (with hashing on, directory-watcher reports
 * neither a touch of an unchanged file nor a symlink swap).
 *
 * <p>Events are debounced on both edges: the first event of a burst triggers at once (a deploy
 * starts within a millisecond), and one more trigger follows when the burst has been quiet for
 * {@link #QUIET_MS}. The quiet window is long on purpose: a deploy (~200 ms) is shorter than a
 * burst, so any pause in the burst longer than the window would start a deploy of its own (a
 * busy 2-core machine pauses a touch loop for tens of ms). The deployer coalesces whatever
 * arrives meanwhile, so 1,000 touches make at most two deploys and the newest release always ends
 * up live.
 */
public final class TriggerWatcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TriggerWatcher.class);
    static final long QUIET_MS = 500;
    /** How often a watched directory that was removed is looked for again. */
    private static final long LOST_POLL_MS = 50;

    private final Optional<Path> triggerFile;
    private final Optional<ReleaseLink> releaseLink;
    private final Consumer<Trigger> deploy;
    private final WatchService watcher;
    /** The directories watched now; one removed from disk leaves this set until it is back. */
    private final Set<Path> watched = new HashSet<>();
    private final Thread thread;
    private final int directoryCount;
    private volatile boolean closed;

    public TriggerWatcher(Optional<Path> triggerFile, Optional<Path> releaseLink, Consumer<Trigger> deploy)
            throws IOException {
        this.triggerFile = triggerFile;
        this.releaseLink = releaseLink.map(ReleaseLink::new);
        this.deploy = deploy;
        this.watcher = FileSystems.getDefault().newWatchService();
        this.thread = new Thread(this::run, "trigger-watcher");
        thread.setDaemon(true);
        if (triggerFile.isPresent()) Files.createDirectories(triggerFile.get().getParent());
        int n = 0;
        for (Path dir : directories()) {
            register(dir);
            n++;
        }
        directoryCount = n;
    }

    public void start() {
        thread.start();
        triggerFile.ifPresent(f -> log.info("watching trigger file {}", f));
        releaseLink.ifPresent(l -> log.info("watching release link {} (now {})", l.path(), l.target()));
    }

    private Iterable<Path> directories() {
        Set<Path> dirs = new LinkedHashSet<>();
        triggerFile.ifPresent(f -> dirs.add(f.getParent()));
        releaseLink.ifPresent(l -> dirs.add(l.path().getParent()));
        return dirs;
    }

    private boolean register(Path dir) {
        try {
            dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
            watched.add(dir);
            return true;
        } catch (IOException e) {
            watched.remove(dir);
            return false;
        }
    }

    /** What a batch of events asks for. */
    private static final class Seen {
        boolean trigger;
        boolean link;

        boolean any() {
            return trigger || link;
        }
    }

    private void run() {
        Seen burst = null; // events since the leading trigger of the current burst
        try {
            while (!closed) {
                boolean lost = watched.size() < directoryCount;
                WatchKey key = burst != null ? watcher.poll(QUIET_MS, TimeUnit.MILLISECONDS)
                        : lost ? watcher.poll(LOST_POLL_MS, TimeUnit.MILLISECONDS)
                        : watcher.take(); // nothing to time: sleep until something happens
                if (key == null) {
                    if (burst != null) {
                        fire(burst); // trailing edge: the burst went quiet
                        burst = null;
                    }
                    recoverLostDirectories();
                    continue;
                }
                Seen seen = read(key);
                if (burst == null) {
                    if (seen.any()) {
                        fire(seen); // leading edge
                        burst = new Seen();
                    }
                } else {
                    burst.trigger |= seen.trigger;
                    burst.link |= seen.link;
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        } catch (RuntimeException e) {
            log.error("trigger watcher stopped: {}", e.toString(), e);
        }
    }

    private Seen read(WatchKey key) {
        Seen seen = new Seen();
        Path dir = (Path) key.watchable();
        for (WatchEvent<?> event : key.pollEvents()) {
            if (event.kind() == StandardWatchEventKinds.OVERFLOW) {
                seen.trigger = triggerFile.isPresent();
                seen.link = releaseLink.isPresent();
                continue;
            }
            Path name = dir.resolve((Path) event.context());
            // Deleting the trigger file is no trigger; a deleted link is only half of `ln -sfn`.
            if (event.kind() == StandardWatchEventKinds.ENTRY_DELETE) continue;
            if (triggerFile.isPresent() && name.equals(triggerFile.get())) seen.trigger = true;
            if (releaseLink.isPresent() && name.equals(releaseLink.get().path())) seen.link = true;
        }
        if (!key.reset()) {
            log.warn("watched directory {} is gone; watching for it to come back", dir);
            watched.remove(dir);
        }
        return seen;
    }

    private void fire(Seen seen) {
        if (seen.trigger) {
            log.info("trigger file {} touched", triggerFile.get());
            deploy.accept(Trigger.TRIGGER_FILE);
        }
        if (seen.link) {
            ReleaseLink link = releaseLink.get();
            if (link.changed()) {
                log.info("release link {} now points to {}", link.path(), link.target());
                deploy.accept(Trigger.RELEASE_LINK);
            }
        }
    }

    /** A directory removed and made again (a tmpfs cleaned): watch it again, and catch up. */
    private void recoverLostDirectories() {
        for (Path dir : directories()) {
            if (watched.contains(dir) || !Files.isDirectory(dir) || !register(dir)) continue;
            log.info("watching {} again", dir);
            Seen seen = new Seen();
            // Created in the new directory before we were watching it: that was a trigger.
            seen.trigger = triggerFile.isPresent() && triggerFile.get().getParent().equals(dir) && Files.exists(triggerFile.get());
            seen.link = releaseLink.isPresent() && releaseLink.get().path().getParent().equals(dir);
            fire(seen);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            watcher.close();
        } catch (IOException e) {
            log.debug("closing the watch service: {}", e.toString());
        }
        try {
            thread.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
