package dev.rainbowd.daemon;

import dev.rainbowd.config.Config;
import dev.rainbowd.control.ControlServer;
import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.deploy.Deployer;
import dev.rainbowd.deploy.Status;
import dev.rainbowd.deploy.Trigger;
import dev.rainbowd.health.HealthProbe;
import dev.rainbowd.metrics.Metrics;
import dev.rainbowd.process.Launcher;
import dev.rainbowd.process.StateStore;
import dev.rainbowd.proxy.ProxyRouter;
import dev.rainbowd.proxy.ProxyThreadPool;
import dev.rainbowd.proxy.TrafficSwitch;
import dev.rainbowd.watch.TriggerWatcher;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
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

    private final Config config;
    private final Server server;
    private final ServerConnector proxyConnector;
    private final ServerConnector controlConnector;
    private final Optional<PassedSocket> passedSocket;
    private final TrafficSwitch traffic = new TrafficSwitch();
    private final HealthProbe probe;
    private final Deployer deployer;
    private TriggerWatcher watcher;
    private java.nio.channels.FileLock stateLock; // held for the daemon's life: one rainbowd per stateDir
    private final SystemdNotify systemd = SystemdNotify.fromEnvironment(System.getenv());
    private boolean closed;

    private Daemon(Config config, StateStore store, Optional<PassedSocket> passedSocket) {
        this.config = config;
        this.passedSocket = passedSocket;
        this.probe = new HealthProbe(config.healthTimeout());
        this.deployer = new Deployer(config, new Launcher(config.run(), config.env(), config.stateDir()), probe, traffic,
                store);

        QueuedThreadPool threads = new ProxyThreadPool();
        threads.setName("rainbowd");
        server = new Server(threads);
        HttpConfiguration proxyHttp = ProxyRouter.httpConfiguration();
        HttpConfiguration controlHttp = new HttpConfiguration(proxyHttp);
        controlHttp.setUriCompliance(UriCompliance.DEFAULT); // the control API reads its own paths: strict
        proxyConnector = connector("proxy", config.host(), config.port(), proxyHttp, ProxyThreadPool.EVENT_LOOPS);
        controlConnector = connector("control", config.controlHost(), config.controlPort(), controlHttp, 1);
        server.addConnector(proxyConnector);
        server.addConnector(controlConnector);

        ProxyRouter router = new ProxyRouter(traffic, config.queueTimeout(), IDLE_TIMEOUT);
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
        Handler proxy = new GracefulHandler(router);
        Handler control = new ControlServer(deployer, metrics, config.controlToken());
        server.setHandler(new ByConnector(proxy, control, controlConnector));
        // On stop, in-flight proxied requests get up to drainTimeout to finish.
        server.setStopTimeout(config.drainTimeout().toMillis());
        server.setStopAtShutdown(false);
    }

    private ServerConnector connector(String name, String host, int port, HttpConfiguration http, int selectors) {
        ServerConnector c = name.equals("proxy") && passedSocket.isPresent()
                ? new PassedSocketConnector(server, passedSocket.get().channel(), selectors, new HttpConnectionFactory(http))
                : new ServerConnector(server, -1, selectors, new HttpConnectionFactory(http));
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
        prepareStateDir(config.stateDir());
        java.nio.channels.FileLock lock = lockStateDir(config.stateDir());
        StateStore store = new StateStore(config.stateDir());
        try {
            store.stopOrphans(config.stopTimeout()); // before we launch anything of our own
        } catch (IOException e) {
            throw new StartupException("cannot read the state in " + config.stateDir() + ": " + rootMessage(e));
        }
        Daemon d = new Daemon(config, store, passed);
        d.stateLock = lock;
        try {
            d.server.start();
        } catch (Exception e) {
            d.close();
            throw new StartupException("cannot listen on " + config.host() + ":" + config.port() + " and "
                    + config.controlHost() + ":" + config.controlPort() + ": " + rootMessage(e));
        }
        if (passed.isEmpty()) {
            log.info("rainbowd listening on {}:{} (proxy, bound itself) and {}:{} (control), state in {}", config.host(),
                    d.proxyPort(), config.controlHost(), d.controlPort(), config.stateDir());
        } else {
            PassedSocket p = passed.get();
            if (!p.matches(config.host(), config.port())) {
                log.warn("the passed proxy socket is {}:{} but the config says {}:{}: serving on the passed socket"
                        + " (make the socket unit's ListenStream= and the config's host and port agree)",
                        p.address().getAddress().getHostAddress(), p.address().getPort(), config.host(), config.port());
            }
            log.info("rainbowd listening on {}:{} (proxy, on the socket passed as {}) and {}:{} (control), state in {}",
                    p.address().getAddress().getHostAddress(), d.proxyPort(), p.describe(), config.controlHost(),
                    d.controlPort(), config.stateDir());
        }
        d.deployer.request(Trigger.STARTUP);
        if (config.triggerFile().isPresent() || config.releaseLink().isPresent()) {
            try {
                d.watcher = new TriggerWatcher(config.triggerFile(), config.releaseLink(), d.deployer::request);
            } catch (IOException e) {
                d.close();
                throw new StartupException("cannot watch " + config.triggerFile().or(config::releaseLink).orElseThrow()
                        + ": " + rootMessage(e));
            }
            d.watcher.start();
        }
        return d;
    }

    private static void prepareStateDir(Path dir) throws StartupException {
        try {
            Files.createDirectories(dir);
            // A byte written and synced, not just a name: a full disk fails here, at start.
            Path probe = Files.createTempFile(dir, ".write-test", ".tmp");
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(probe,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(new byte[] {'\n'}));
                ch.force(true);
            } finally {
                Files.delete(probe);
            }
        } catch (IOException | SecurityException e) {
            throw new StartupException("stateDir " + dir + " is not writable: " + rootMessage(e));
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

    /**
     * Before anything reads the state: a second rainbowd started on the same config (someone
     * debugging) must not take the first one's generations for orphans and stop them.
     */
    private static java.nio.channels.FileLock lockStateDir(Path dir) throws StartupException {
        try {
            java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir.resolve("lock"),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
            java.nio.channels.FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException e) {
                lock = null; // held by this very JVM
            }
            if (lock == null) {
                ch.close();
                throw new StartupException("another rainbowd is running with stateDir " + dir + " (same config?)");
            }
            return lock;
        } catch (IOException e) {
            throw new StartupException("cannot lock stateDir " + dir + ": " + rootMessage(e));
        }
    }

    public Deployer deployer() { return deployer; }
    public int proxyPort() { return proxyConnector.getLocalPort(); }
    public int controlPort() { return controlConnector.getLocalPort(); }
    public Config config() { return config; }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        log.info("rainbowd stopping: no new connections, finishing in-flight requests (up to {} ms)",
                config.drainTimeout().toMillis());
        systemd.stopping();
        if (watcher != null) watcher.close();
        deployer.stopDeploying();
        traffic.shutdown();
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("stopping the listeners: {}", rootMessage(e));
        }
        deployer.close();
        probe.close();
        systemd.close();
        if (stateLock != null) {
            try {
                stateLock.channel().close(); // releases the lock
            } catch (IOException e) {
                log.debug("closing the stateDir lock: {}", e.toString());
            }
        }
        log.info("rainbowd stopped");
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
