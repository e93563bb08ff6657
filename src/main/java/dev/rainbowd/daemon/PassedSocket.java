package dev.rainbowd.daemon;

import dev.rainbowd.daemon.Daemon.StartupException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The proxy's listening socket when systemd passed one (socket activation, the sd_listen_fds
 * protocol: {@code LISTEN_PID} is this process, {@code LISTEN_FDS} sockets from fd 3, named in
 * {@code LISTEN_FDNAMES}). The socket outlives rainbowd, so a restart refuses no connection: they
 * wait in its backlog until the next rainbowd accepts them.
 *
 * <p>The JDK hands over an inherited socket only on fd 0 ({@link System#inheritedChannel()}), so
 * {@code agent/rainbowd} moves the proxy's socket there before it execs java.
 */
final class PassedSocket {
    /** sd_listen_fds: passed sockets start at fd 3. */
    private static final int FIRST_FD = 3;

    private final ServerSocketChannel channel;
    private final InetSocketAddress address;
    private final String describe;

    private PassedSocket(ServerSocketChannel channel, InetSocketAddress address, String describe) {
        this.channel = channel;
        this.address = address;
        this.describe = describe;
    }

    /** fd 0 as a channel; the JDK's is {@link System#inheritedChannel()}. */
    interface Fd0 {
        Channel channel() throws IOException;
    }

    static Optional<PassedSocket> fromEnvironment() throws StartupException {
        return from(System.getenv(), ProcessHandle.current().pid(), System::inheritedChannel);
    }

    /**
     * Empty when no socket was passed to this process (no {@code LISTEN_PID}, another process's,
     * or {@code LISTEN_FDS=0}): rainbowd binds the proxy port itself. Passed sockets that fd 0 does
     * not hold are a start-up error, not a silent bind: the port is systemd's, a bind would fail on
     * it or, on another address, serve where nobody connects.
     */
    static Optional<PassedSocket> from(Map<String, String> env, long pid, Fd0 fd0) throws StartupException {
        String listenPid = env.get("LISTEN_PID");
        String listenFds = env.get("LISTEN_FDS");
        if (listenPid == null || listenFds == null || !listenPid.trim().equals(Long.toString(pid))) {
            return Optional.empty(); // meant for another process (the launcher's parent, say)
        }
        int count;
        try {
            count = Integer.parseInt(listenFds.trim());
        } catch (NumberFormatException e) {
            count = -1;
        }
        if (count < 0) throw new StartupException("LISTEN_FDS=" + listenFds + " is not a number of passed sockets");
        if (count == 0) return Optional.empty();

        List<String> names = Arrays.asList(env.getOrDefault("LISTEN_FDNAMES", "").split(":", -1));
        int index = proxyIndex(names, count);
        String fd = "fd " + (FIRST_FD + index) + (index < names.size() && !names.get(index).isEmpty()
                ? " \"" + names.get(index) + "\"" : "");
        Channel c;
        try {
            c = fd0.channel();
        } catch (IOException e) {
            c = null;
        }
        if (!(c instanceof ServerSocketChannel server) || !(localAddress(server) instanceof InetSocketAddress address)) {
            throw new StartupException("LISTEN_FDS=" + listenFds + " passes a socket to this process, but fd 0 is "
                    + what(c) + ", not a listening TCP socket: start rainbowd through agent/rainbowd, which moves "
                    + fd + " to fd 0 for the JVM");
        }
        String others = count == 1 ? ""
                : "; the other " + (count - 1) + " passed socket(s) are left unused (the control port is bound by rainbowd)";
        return Optional.of(new PassedSocket(server, address, fd + others));
    }

    /** The socket named {@code proxy} in LISTEN_FDNAMES, else the first; agent/rainbowd picks the same. */
    static int proxyIndex(List<String> names, int count) {
        int i = names.indexOf("proxy");
        return i >= 0 && i < count ? i : 0;
    }

    ServerSocketChannel channel() { return channel; }
    InetSocketAddress address() { return address; }

    /** Which passed socket, for the log: {@code fd 3 "proxy"}, and what became of the others. */
    String describe() { return describe; }

    /** Whether the config's {@code host:port} names this socket's address (else the config is stale). */
    boolean matches(String host, int port) {
        if (port != address.getPort()) return false;
        try {
            return InetAddress.getByName(host).equals(address.getAddress());
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static SocketAddress localAddress(ServerSocketChannel c) {
        try {
            return c.getLocalAddress();
        } catch (IOException e) {
            return null;
        }
    }

    private static String what(Channel c) {
        if (c == null) return "not a socket";
        if (c instanceof ServerSocketChannel) return "a Unix socket";
        if (c instanceof SocketChannel) return "a connected socket";
        return "a datagram socket";
    }
}
