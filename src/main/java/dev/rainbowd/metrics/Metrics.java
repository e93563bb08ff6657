package dev.rainbowd.metrics;

import dev.rainbowd.deploy.DeployResult;
import dev.rainbowd.deploy.Deployer;
import dev.rainbowd.deploy.Status;
import dev.rainbowd.proxy.Backend;
import dev.rainbowd.proxy.ProxyRouter;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * {@code GET /metrics}, in the Prometheus text format. Per-request numbers are counted on the
 * request path in LongAdders (one increment per request) and read here only when scraped;
 * deploys, probes and crashes come from the deployer's listener.
 */
public final class Metrics implements Deployer.Listener {
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;
    private static final String[] CLASSES = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.builder().setIncludeCreatedTimestamps(false).build();
    private final Counter deploys;
    private final Histogram deployDuration;
    private final Counter probes;
    private final Counter crashes;

    public Metrics(Deployer deployer, ProxyRouter router) {
        CounterWithCallback.builder().name("rainbowd_requests_total")
                .help("Requests proxied, by generation and status class (a generation's series ends when it stops)")
                .labelNames("generation", "code")
                .callback(cb -> {
                    for (Backend b : deployer.backends()) {
                        for (int c = 1; c <= 5; c++) cb.call(b.responses(c), Integer.toString(b.generation()), CLASSES[c]);
                    }
                }).register(registry);
        CounterWithCallback.builder().name("rainbowd_requests_aborted_total")
                .help("Proxied requests that ended without a response: the client went away, or drainTimeout ended them")
                .labelNames("generation")
                .callback(cb -> deployer.backends().forEach(b -> cb.call(b.aborted(), Integer.toString(b.generation()))))
                .register(registry);
        CounterWithCallback.builder().name("rainbowd_unavailable_total")
                .help("Requests answered 503 because no generation went live within queueTimeout")
                .callback(cb -> cb.call(router.unavailableCount())).register(registry);
        CounterWithCallback.builder().name("rainbowd_hung_up_while_waiting_total")
                .help("Requests dropped, never sent to the app, because their client hung up while they waited for a live generation")
                .callback(cb -> cb.call(router.hungUpCount())).register(registry);
        CounterWithCallback.builder().name("rainbowd_request_body_too_large_total")
                .help("Requests answered 413, never sent to the app, because their body was over maxRequestBody")
                .callback(cb -> cb.call(router.tooLargeCount())).register(registry);
        GaugeWithCallback.builder().name("rainbowd_in_flight")
                .help("Requests in flight, by generation")
                .labelNames("generation")
                .callback(cb -> deployer.backends().forEach(b -> cb.call(b.inFlight(), Integer.toString(b.generation()))))
                .register(registry);
        GaugeWithCallback.builder().name("rainbowd_tunnels")
                .help("Open tunnels (WebSockets and other upgraded connections), by generation; not in rainbowd_in_flight")
                .labelNames("generation")
                .callback(cb -> deployer.backends().forEach(b -> cb.call(b.tunnels(), Integer.toString(b.generation()))))
                .register(registry);
        GaugeWithCallback.builder().name("rainbowd_generations")
                .help("Generations by state")
                .labelNames("state")
                .callback(cb -> {
                    Status s = deployer.status();
                    cb.call(s.live() == null ? 0 : 1, "live");
                    cb.call(s.draining().size(), "draining");
                    cb.call(s.deploying() == null ? 0 : 1, "starting");
                }).register(registry);
        GaugeWithCallback.builder().name("rainbowd_last_deploy_duration_seconds")
                .help("How long the last deploy took, live or failed")
                .callback(cb -> {
                    DeployResult last = deployer.status().lastDeploy();
                    if (last != null) cb.call(last.duration().toNanos() / 1e9);
                }).register(registry);
        GaugeWithCallback.builder().name("rainbowd_uptime_seconds")
                .help("Seconds since rainbowd started")
                .callback(cb -> cb.call(deployer.status().uptime().toMillis() / 1e3)).register(registry);
        deploys = Counter.builder().name("rainbowd_deploys_total")
                .help("Deploys by outcome (live, failed) and trigger")
                .labelNames("outcome", "trigger").register(registry);
        deployDuration = Histogram.builder().name("rainbowd_deploy_duration_seconds")
                .help("Deploy duration, from start to cutover (or failure)")
                .classicUpperBounds(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
                .register(registry);
        probes = Counter.builder().name("rainbowd_health_probes_total")
                .help("Health probes sent to new generations").register(registry);
        crashes = Counter.builder().name("rainbowd_crashes_total")
                .help("Times the live generation's process died without being asked to").register(registry);
    }

    @Override
    public void deployed(DeployResult r) {
        deploys.labelValues(r.state(), r.trigger().toString()).inc();
        deployDuration.observe(r.duration().toNanos() / 1e9);
    }

    @Override
    public void probing() {
        probes.inc();
    }

    @Override
    public void crashed() {
        crashes.inc();
    }

    public String scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
