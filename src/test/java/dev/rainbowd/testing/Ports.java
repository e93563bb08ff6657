package dev.rainbowd.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free TCP ports on 127.0.0.1 for tests, chosen below the kernel's ephemeral range (32768 and up
 * on Linux). A port the kernel handed out for {@code bind(0)} and that the test then gave back is
 * in the range it picks outgoing connections' ports from: on a machine busy with other builds, one
 * of their connections took it before the daemon under test bound it ("Address already in use").
 * Ports from 20000 to 32767 are never given to an outgoing connection, so only another test's
 * own choice can take one, and that needs the same random pick within the same moment.
 */
public final class Ports {
    private static final int LOW = 20_000;
    private static final int HIGH = 32_767;

    private Ports() {}

    public static int free() {
        for (int i = 0; i < 200; i++) {
            int p = ThreadLocalRandom.current().nextInt(LOW, HIGH + 1);
            if (isFree(p)) return p;
        }
        throw new IllegalStateException("no free port on 127.0.0.1 in " + LOW + ".." + HIGH);
    }

    /** A free port p such that p + 1 is free too (proxy port and its default control port). */
    public static int freePair() {
        for (int i = 0; i < 200; i++) {
            int p = ThreadLocalRandom.current().nextInt(LOW, HIGH);
            if (isFree(p) && isFree(p + 1)) return p;
        }
        throw new IllegalStateException("no free port pair on 127.0.0.1 in " + LOW + ".." + HIGH);
    }

    public static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
