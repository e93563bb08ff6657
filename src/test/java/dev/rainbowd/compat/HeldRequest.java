package dev.rainbowd.compat;

import dev.rainbowd.testing.TestDaemon;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A slow request the test holds open for as long as it needs, on a connection of its own: the test
 * apps' {@code /slow?until=FILE&mark=FILE} create the mark when the request arrives and answer
 * once the release file exists. So "in flight" is an event, not a guess at a duration.
 */
final class HeldRequest {
    private static final AtomicInteger ids = new AtomicInteger();

    private final Path mark;
    private final Path release;
    private final CompletableFuture<RawHttp.Response> response;

    HeldRequest(Path dir, int port, String host) {
        int id = ids.incrementAndGet();
        mark = dir.resolve("held-" + id + ".arrived");
        release = dir.resolve("held-" + id + ".release");
        String target = "/slow?until=" + release + "&mark=" + mark;
        response = CompletableFuture.supplyAsync(() -> {
            try (RawHttp http = new RawHttp(port, host)) {
                return http.get(target);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Waits until the app has the request. */
    HeldRequest awaitArrived() {
        TestDaemon.await("the held request at the app (" + mark + ")",
                () -> Files.exists(mark) || response.isDone(), Duration.ofSeconds(30));
        return this;
    }

    boolean isDone() { return response.isDone(); }

    /** For a failure message: the status and body, or the exception. */
    String outcome() {
        return response.handle((r, e) -> e != null ? e.getCause().toString() : r.status() + " " + r.text().strip()).join();
    }

    void release() throws IOException {
        Files.createFile(release);
    }

    RawHttp.Response response() throws Exception {
        return response.get(60, TimeUnit.SECONDS);
    }
}
