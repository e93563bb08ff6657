package dev.rainbowd.deploy;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * The releases that went live, newest first: where a rollback goes. A deploy of a release pushes
 * it (unless it is the newest already: a redeploy of the same code); a rollback goes to the most
 * recent release that differs from the newest and drops the ones above it, so a second rollback
 * goes further back, as Capistrano's does, instead of back to the release just rolled back from.
 * Not thread-safe: the deployer's lock guards it.
 */
final class ReleaseHistory {
    /** Enough to roll back a few times; the directories themselves are the user's to keep or prune. */
    private static final int KEPT = 20;
    private final Deque<Path> releases = new ArrayDeque<>();

    /** {@code release} went live; {@code rollback} if a rollback took it there. */
    void live(Path release, boolean rollback) {
        if (rollback) {
            while (!releases.isEmpty() && !releases.peek().equals(release)) releases.pop();
        }
        if (release.equals(releases.peek())) return;
        releases.push(release);
        while (releases.size() > KEPT) releases.removeLast();
    }

    /** The most recent release that differs from the newest one. */
    Optional<Path> rollbackTarget() {
        Path newest = releases.peek();
        return releases.stream().filter(r -> !r.equals(newest)).findFirst();
    }

    /** Newest first. */
    List<Path> list() {
        return List.copyOf(releases);
    }
}
