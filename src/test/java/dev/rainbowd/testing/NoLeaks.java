package dev.rainbowd.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Every test class, on its own: no process, thread or listening socket of its making outlives it.
 * Registered for the whole suite (META-INF/services, autodetection in junit-platform.properties),
 * so a test that forgets to close a daemon, a proxy or an app fails where it forgot, not as a port
 * taken or a thread count off somewhere later. What was there before the class is not its.
 */
public final class NoLeaks implements BeforeAllCallback, AfterAllCallback {
    /** Threads a daemon, its proxy (Jetty) or its deployer names; JVM-wide ones (the JDK's HTTP client) are not in it. */
    private static final Pattern OURS = Pattern.compile(
            "rainbowd-.*|deployer-.*|stopper-.*|state-.*|restart-timer-.*|gen-\\d+-output|trigger-watcher|systemd-notify"
                    + "|qtp\\d+-.*|Scheduler-\\d+.*|HttpClient@.*|Connector-Scheduler.*");
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NoLeaks.class);

    private record Before(Set<Long> threads, Set<Long> processes, Set<String> listening) {}

    @Override
    public void beforeAll(ExtensionContext context) {
        context.getStore(NS).put("before", new Before(threadIds(), processIds(), listeningSockets()));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Before before = context.getStore(NS).get("before", Before.class);
        if (before == null) return;
        List<String> left = Poll.until(() -> leftBehind(before), List::isEmpty, Duration.ofSeconds(10));
        if (!left.isEmpty()) {
            throw new AssertionError(context.getDisplayName() + " left behind: " + String.join("; ", left));
        }
    }

    private static List<String> leftBehind(Before before) {
        List<String> left = new ArrayList<>();
        Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !before.threads().contains(t.getId()) && OURS.matcher(t.getName()).matches())
                .forEach(t -> left.add("thread " + t.getName()));
        ProcessHandle.current().descendants()
                .filter(p -> p.isAlive() && !before.processes().contains(p.pid()))
                .forEach(p -> left.add("process " + p.pid() + " " + p.info().commandLine().orElse("?")));
        Set<String> listening = listeningSockets();
        listening.removeAll(before.listening());
        listening.forEach(inode -> left.add("listening socket (inode " + inode + ")"));
        return left;
    }

    private static Set<Long> threadIds() {
        Set<Long> ids = new HashSet<>();
        Thread.getAllStackTraces().keySet().forEach(t -> ids.add(t.getId()));
        return ids;
    }

    private static Set<Long> processIds() {
        Set<Long> ids = new HashSet<>();
        ProcessHandle.current().descendants().forEach(p -> ids.add(p.pid()));
        return ids;
    }

    /** Inodes of this JVM's sockets in LISTEN state (/proc/net/tcp and tcp6, state 0A). */
    private static Set<String> listeningSockets() {
        Set<String> listen = new HashSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            try (Stream<String> lines = Files.lines(Path.of(table))) {
                lines.skip(1).map(String::trim).map(l -> l.split("\\s+"))
                        .filter(f -> f.length > 9 && f[3].equals("0A")).forEach(f -> listen.add(f[9]));
            } catch (IOException e) {
                // not Linux: nothing to compare
            }
        }
        Set<String> ours = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            fds.forEach(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        String inode = target.substring(8, target.length() - 1);
                        if (listen.contains(inode)) ours.add(inode);
                    }
                } catch (IOException e) {
                    // closed meanwhile
                }
            });
        } catch (IOException e) {
            // not Linux
        }
        return ours;
    }
}
