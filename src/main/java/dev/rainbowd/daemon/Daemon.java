package dev.rainbowd.daemon;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigLoader;
import dev.rainbowd.config.ConfigSource;
import dev.rainbowd.config.DaemonConfig;
import dev.rainbowd.control.ControlServer;
import dev.rainbowd.control.ControlToken;
import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.deploy.Deployer;
import dev.rainbowd.deploy.Status;
import dev.rainbowd.deploy.Trigger;
import dev.rainbowd.health.HealthProbe;
import dev.rainbowd.metrics.Metrics;
import dev.rainbowd.process.Launcher;
import dev.rainbowd.process.StateStore;
import dev.rainbowd.proxy.GuardedHttpConnectionFactory;
import dev.rainbowd.proxy.ProxyRouter;
import dev.rainbowd.proxy.ProxyThreadPool;
import dev.rainbowd.proxy.TrafficSwitch;
import dev.rainbowd.watch.TriggerWatcher;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running rainbowd: the proxy and control listeners, the deployer and its generations.
 * {@link #close()} is the orderly shutdown: stop accepting, finish in-flight requests, stop every
 * generation.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    /** Client and upstream connections idle this long are closed (nginx: keepalive_timeout 75s). */
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
    /**
     * A connection's first request head must be complete this long after it opened, a later one
     * this long after its first byte (nginx: client_header_timeout 60s).
     */
    private static final Duration HEAD_DEADLINE = Duration.ofSeconds(60);
    /** What the server's own stop waits for, after close() waited for the requests. */
    private static final Duration LEFTOVERS = Duration.ofSeconds(1);

    private final Config config;
    private final Server server;
    private final ServerConnector proxyConnector;
    private final ServerConnector controlConnector;
    /** Counts the proxied requests in flight, for shutdown to wait on. */
    private final GracefulHandler requests;
    private final Optional<PassedSocket> passedSocket;
    private final DescriptorBudget descriptors;
    private final TrafficSwitch traffic = new TrafficSwitch();
    private final HealthProbe probe;
    private final Deployer deployer;
    private TriggerWatcher watcher;
    private StateDir stateDir; // its lock is held for the daemon's life: one rainbowd per stateDir
    private final SystemdNotify systemd = SystemdNotify.fromEnvironment(System.getenv());
    private boolean closed;
    /** Set once start() succeeded: a start that failed had no requests to finish and is not "stopping". */
    private volatile boolean started;

    private Daemon(Config config, StateStore store, String daemonId, Optional<PassedSocket> passedSocket) {
        this.config = config;
        this.passedSocket = passedSocket;
        DaemonConfig bound = config.daemon();
        this.probe = new HealthProbe(config.app().healthTimeout());
        // Every deploy reads the file again, with the environment the daemon started in.
        ConfigSource source = () -> ConfigLoader.load(config.file());
        this.deployer = new Deployer(config, source, new Launcher(bound.stateDir(), daemonId), probe, traffic, store);

        QueuedThreadPool threads = new ProxyThreadPool();
        threads.setName("rainbowd");
        server = new Server(threads);
        HttpConfiguration proxyHttp = ProxyRouter.httpConfiguration();
        HttpConfiguration controlHttp = new HttpConfiguration(proxyHttp);
        controlHttp.setUriCompliance(UriCompliance.DEFAULT); // the control API reads its own paths: strict
        proxyConnector = connector("proxy", bound.host(), bound.port(), proxyHttp, ProxyThreadPool.EVENT_LOOPS);
        controlConnector = connector("control", bound.controlHost(), bound.controlPort(), controlHttp, 1);
        server.addConnector(proxyConnector);
        server.addConnector(controlConnector);
        descriptors = new DescriptorBudget(server, proxyConnector, controlConnector);

        ProxyRouter router = new ProxyRouter(traffic, IDLE_TIMEOUT, bound.stateDir());
        Metrics metrics = new Metrics(deployer, router);
        deployer.listener(new Deployer.Listener() {
            @Override
            public void deployed(DeployResult result) {
                metrics.deployed(result);
                reportStatus();
            }

            @Override
            public void probing() {
                metrics.probing();
            }

            @Override
            public void crashed() {
                metrics.crashed();
                reportStatus();
            }
        });
        requests = new GracefulHandler(router);
        Handler proxy = requests;
        Handler control = new ControlServer(deployer, metrics, new ControlToken(config, source), bound.controlHost(),
                bound.controlPort());
        server.setHandler(new ByConnector(proxy, control, controlConnector));
        server.setStopAtShutdown(false);
        // close() waits for the requests itself (up to drainTimeout) before it stops the server:
        // by then what is left is idle connections and responses being flushed.
        server.setStopTimeout(LEFTOVERS.toMillis());
    }

    private ServerConnector connector(String name, String host, int port, HttpConfiguration http, int selectors) {
        ServerConnector c = name.equals("proxy") && passedSocket.isPresent()
                ? new PassedSocketConnector(server, passedSocket.get().channel(), selectors,
                        new GuardedHttpConnectionFactory(http, HEAD_DEADLINE))
                : new ServerConnector(server, -1, selectors, new GuardedHttpConnectionFactory(http, HEAD_DEADLINE));
        c.setName(name);
        c.setHost(host);
        c.setPort(port);
        c.setIdleTimeout(IDLE_TIMEOUT.toMillis());
        c.setAcceptQueueSize(1024);
        return c;
    }

    /** Binds both ports and starts the first generation (without waiting for it). */
    public static Daemon start(Config config) throws StartupException {
        Optional<PassedSocket> passed = PassedSocket.fromEnvironment();
        DaemonConfig bound = config.daemon();
        StateDir dir = StateDir.open(bound.stateDir());
        StateStore store = new StateStore(dir.path(), dir.daemonId());
        try {
            store.stopOrphans(config.app().stopSignal(), config.app().stopTimeout()); // before we launch anything of our own
        } catch (IOException e) {
            dir.close();
            throw new StartupException("cannot read the state in " + bound.stateDir() + ": " + rootMessage(e));
        }
        Daemon d = new Daemon(config, store, dir.daemonId(), passed);
        d.stateDir = dir;
        // Each listener bound on its own first, so that the error names the one that failed.
        d.bind(d.proxyConnector, bound.host(), bound.port(), "the proxy", "host, port");
        d.bind(d.controlConnector, bound.controlHost(), bound.controlPort(), "the control API", "controlHost, controlPort");
        try {
            d.server.start();
            d.descriptors.apply();
        } catch (Exception e) {
            d.close();
            throw new StartupException("cannot start the listeners on " + bound.host() + ":" + bound.port() + " and "
                    + bound.controlHost() + ":" + bound.controlPort() + ": " + rootMessage(e));
        }
        if (passed.isEmpty()) {
            log.info("rainbowd listening on {}:{} (proxy, bound itself) and {}:{} (control), state in {}", bound.host(),
                    d.proxyPort(), bound.controlHost(), d.controlPort(), bound.stateDir());
        } else {
            PassedSocket p = passed.get();
            if (!p.matches(bound.host(), bound.port())) {
                log.warn("the passed proxy socket is {}:{} but the config says {}:{}: serving on the passed socket"
                        + " (make the socket unit's ListenStream= and the config's host and port agree)",
                        p.address().getAddress().getHostAddress(), p.address().getPort(), bound.host(), bound.port());
            }
            log.info("rainbowd listening on {}:{} (proxy, on the socket passed as {}) and {}:{} (control), state in {}",
                    p.address().getAddress().getHostAddress(), d.proxyPort(), p.describe(), bound.controlHost(),
                    d.controlPort(), bound.stateDir());
        }
        d.deployer.request(Trigger.STARTUP);
        if (bound.triggerFile().isPresent() || bound.releaseLink().isPresent()) {
            try {
                d.watcher = new TriggerWatcher(bound.triggerFile(), bound.releaseLink(), d.deployer::request);
            } catch (IOException e) {
                d.close();
                throw new StartupException("cannot watch " + bound.triggerFile().or(bound::releaseLink).orElseThrow()
                        + ": " + rootMessage(e));
            }
            d.watcher.start();
        }
        d.started = true;
        return d;
    }

    /** Opens a listener's socket (the server's start then uses it), or fails the start naming it. */
    private void bind(ServerConnector connector, String host, int port, String what, String keys) throws StartupException {
        try {
            connector.open();
        } catch (IOException | RuntimeException e) {
            close();
            throw new StartupException("cannot listen on " + host + ":" + port + " for " + what + " (" + keys + " in "
                    + config.file() + "): " + rootMessage(e));
        }
    }

    /** For systemd: READY=1 once the first generation is live, and a STATUS= line after every change. */
    private void reportStatus() {
        Status s = deployer.status();
        StringBuilder line = new StringBuilder();
        if (s.live() != null) {
            line.append("live: generation ").append(s.live().generation()).append(' ').append(s.live().color())
                    .append(" port ").append(s.live().port()).append(" pid ").append(s.live().pid());
        } else {
            line.append("no live generation");
        }
        DeployResult last = s.lastDeploy();
        if (last != null) {
            line.append("; last deploy #").append(last.id()).append(' ').append(last.state()).append(" (")
                    .append(last.trigger()).append(", ").append(last.duration().toMillis()).append(" ms)");
            if (!last.live()) line.append(": ").append(last.reason());
        }
        systemd.status(line.toString(), s.live() != null);
    }

    public Deployer deployer() { return deployer; }
    public int proxyPort() { return proxyConnector.getLocalPort(); }
    public int controlPort() { return controlConnector.getLocalPort(); }
    public Config config() { return config; }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        // In-flight proxied requests get up to drainTimeout to finish: the one in force now.
        long drainTimeout = deployer.inForce().drainTimeout().toMillis();
        if (started) log.info("rainbowd stopping: no new connections, finishing in-flight requests (up to {} ms)", drainTimeout);
        systemd.stopping();
        if (watcher != null) watcher.close();
        deployer.stopDeploying();
        traffic.shutdown();
        // Stop accepting and let the requests in flight finish. Open tunnels (WebSockets) stay
        // connected through this: the apps get their stop signal with them open and close them
        // themselves, with a close frame the clients understand, before the listeners go.
        // (Not Graceful.shutdown(server): a connector's waits for every connection, tunnels included.)
        // stop accepting; this also closes a socket bind() opened for a start that then failed
        for (Connector c : server.getConnectors()) c.shutdown();
        try {
            requests.shutdown().get(drainTimeout, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.warn("drainTimeout {} ms passed with requests still in flight; stopping the generations", drainTimeout);
        } catch (ExecutionException e) {
            log.warn("stopping the listeners: {}", rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        deployer.close();
        try {
            server.stop(); // what is left, a tunnel whose app ignored its stop included, is cut here
        } catch (Exception e) {
            log.warn("stopping the listeners: {}", rootMessage(e));
        }
        probe.close();
        systemd.close();
        if (stateDir != null) stateDir.close();
        if (started) log.info("rainbowd stopped");
    }

    /** Both listeners share one server and thread pool; the connector a request came in on picks its handler. */
    private static final class ByConnector extends Handler.Sequence {
        private final Handler proxy;
        private final Handler control;
        private final Connector controlConnector;

        ByConnector(Handler proxy, Handler control, Connector controlConnector) {
            super(proxy, control); // as children, both are started and stopped with the server
            this.proxy = proxy;
            this.control = control;
            this.controlConnector = controlConnector;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            Connector c = request.getConnectionMetaData().getConnector();
            return (c == controlConnector ? control : proxy).handle(request, response, callback);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** The daemon could not start; the message is one line for the user. */
    public static final class StartupException extends Exception {
        StartupException(String message) {
            super(message);
        }
    }
}
