package dev.rainbowd.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One state of the release link: the link itself (its inode and change time: each {@code ln -sfn}
 * plus {@code mv -T}, as CI swaps it, makes a new one) and the release it resolves to. Two deploys
 * of one swap are one deploy: the second gets the first one's outcome.
 */
record ReleaseSwap(Path release, Object link, FileTime changed) {

    static ReleaseSwap of(Path link, Path release) throws IOException {
        BasicFileAttributes a = Files.readAttributes(link, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return new ReleaseSwap(release, a.fileKey(), a.lastModifiedTime());
    }

    /**
     * Points {@code link} at {@code release} as CI would: a new link beside it, renamed over it (one
     * atomic step: a reader sees the old target or the new one, never no link). Relative when the
     * old link was, so a tree moved elsewhere keeps working.
     */
    static void point(Path link, Path release) throws IOException {
        Path dir = link.toAbsolutePath().getParent();
        Path target = release;
        if (!Files.readSymbolicLink(link).isAbsolute()) target = dir.toRealPath().relativize(release);
        Path fresh = dir.resolve("." + link.getFileName() + ".rainbowd-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Files.createSymbolicLink(fresh, target);
        try {
            Files.move(fresh, link, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(fresh);
            throw e;
        }
    }
}
