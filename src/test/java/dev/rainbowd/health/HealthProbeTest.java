package dev.rainbowd.health;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.rainbowd.health.HealthProbe.Outcome;
import dev.rainbowd.health.HealthProbe.ProbeResult;
import dev.rainbowd.testing.Ports;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HealthProbeTest {
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    private WireMockServer wm;
    private HealthProbe probe;

    @BeforeEach
    void start() {
        wm = new WireMockServer(wireMockConfig().dynamicPort().bindAddress("127.0.0.1"));
        wm.start();
        probe = new HealthProbe(TIMEOUT);
    }

    @AfterEach
    void stop() {
        probe.close();
        wm.stop();
    }

    @ParameterizedTest
    @ValueSource(ints = {200, 204})
    void twoHundredsAreHealthy(int status) {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(status).withBody(status == 204 ? "" : "ok")));
        assertEquals(new ProbeResult(true, "HTTP " + status), probe.probe(wm.port(), "/health"));
    }

    @ParameterizedTest
    @ValueSource(ints = {500, 404, 301})
    void otherStatusesAreNot(int status) {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(status).withHeader("Location", "/elsewhere")));
        assertEquals(new ProbeResult(false, "HTTP " + status), probe.probe(wm.port(), "/health"));
        wm.verify(1, getRequestedFor(urlEqualTo("/health"))); // no redirect followed, no retry
    }

    @Test
    void pathWithoutSlashAndWithQuery() {
        wm.stubFor(get("/health?deep=1").willReturn(aResponse().withStatus(200)));
        assertTrue(probe.probe(wm.port(), "health?deep=1").healthy());
    }

    @Test
    void connectionRefused() {
        assertEquals(new ProbeResult(false, "connection refused"), probe.probe(Ports.free(), "/health"));
    }

    @Test
    void slowAnswerTimesOut() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withFixedDelay(5_000)));
        long start = System.nanoTime();
        ProbeResult result = probe.probe(wm.port(), "/health");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(new ProbeResult(false, "timed out after 500ms"), result);
        assertTrue(ms >= 400 && ms < 3_000, "took " + ms + "ms");
    }

    @Test
    void connectionReset() {
        wm.stubFor(get("/health").willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
        assertEquals(new ProbeResult(false, "connection reset"), probe.probe(wm.port(), "/health"));
    }

    @Test
    void emptyResponse() {
        wm.stubFor(get("/health").willReturn(aResponse().withFault(Fault.EMPTY_RESPONSE)));
        ProbeResult result = probe.probe(wm.port(), "/health");
        assertEquals(new ProbeResult(false, "connection closed without a response"), result);
    }

    @Test
    void garbage() {
        wm.stubFor(get("/health").willReturn(aResponse().withFault(Fault.RANDOM_DATA_THEN_CLOSE)));
        assertFalse(probe.probe(wm.port(), "/health").healthy());
    }

    @Test
    void awaitBecomesHealthyAfterSomeFailures() {
        String scenario = "warming up";
        wm.stubFor(get("/health").inScenario(scenario).whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(500)).willSetStateTo("2"));
        wm.stubFor(get("/health").inScenario(scenario).whenScenarioStateIs("2")
                .willReturn(aResponse().withStatus(500)).willSetStateTo("3"));
        wm.stubFor(get("/health").inScenario(scenario).whenScenarioStateIs("3")
                .willReturn(aResponse().withStatus(503)).willSetStateTo("up"));
        wm.stubFor(get("/health").inScenario(scenario).whenScenarioStateIs("up")
                .willReturn(aResponse().withStatus(200)));
        List<Integer> attempts = new ArrayList<>();

        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(10), new CompletableFuture<>(), attempts::add);

        assertTrue(outcome.healthy(), outcome.toString());
        assertNull(outcome.reason());
        assertEquals(4, outcome.attempts());
        assertEquals(List.of(1, 2, 3, 4), attempts);
        // Backoff 20, 40, 80ms (jittered down to half at least): fast apps go live fast.
        assertTrue(outcome.elapsed().toMillis() < 5_000, outcome.toString());
    }

    @Test
    void awaitFailsByTheDeadlineNamingTheLastStatus() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(500)));
        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(1), new CompletableFuture<>(), n -> {});

        assertFalse(outcome.healthy());
        assertTrue(outcome.attempts() >= 2, outcome.toString());
        assertEquals("not healthy after 1s: GET http://127.0.0.1:" + wm.port() + "/health: HTTP 500 (last of "
                + outcome.attempts() + " probes)", outcome.reason());
        assertFalse(outcome.unanswered(), "the app answered: more time would not make it healthy");
        // It stops short by less than MIN_PROBE when no probe fits in what is left.
        long least = 1_000 - HealthProbe.MIN_PROBE.toMillis();
        assertTrue(outcome.elapsed().toMillis() >= least && outcome.elapsed().toMillis() < 6_000, outcome.toString());
    }

    @Test
    void awaitKeepsTheDeadlineWhenTheAppHangs() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withFixedDelay(10_000)));
        try (HealthProbe slow = new HealthProbe(Duration.ofSeconds(5))) {
            Outcome outcome = slow.await(wm.port(), "/health", Duration.ofSeconds(1), new CompletableFuture<>(), n -> {});
            assertFalse(outcome.healthy());
            assertTrue(outcome.reason().contains("timed out"), outcome.reason());
            assertTrue(outcome.elapsed().toMillis() < 4_000, outcome.toString());
        }
    }

    @Test
    void awaitReturnsPromptlyWhenAborted() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(500)));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> exit.complete(1));

        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(10), exit, n -> {});

        assertFalse(outcome.healthy());
        assertTrue(outcome.reason().startsWith("aborted after "), outcome.reason());
        assertTrue(outcome.elapsed().toMillis() < 5_000, outcome.toString());
    }

    @Test
    void abortCutsAHangingProbeShort() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withFixedDelay(10_000)));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> exit.complete(137));
        try (HealthProbe slow = new HealthProbe(Duration.ofSeconds(8))) {
            Outcome outcome = slow.await(wm.port(), "/health", Duration.ofSeconds(10), exit, n -> {});
            assertEquals("aborted after 1 probe", outcome.reason());
            assertTrue(outcome.elapsed().toMillis() < 5_000, outcome.toString());
        }
    }

    @Test
    void awaitAlreadyAbortedProbesNothing() {
        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(10),
                CompletableFuture.completedFuture(0), n -> {});
        assertEquals(new Outcome(false, 0, outcome.elapsed(), "aborted after 0 probes", false), outcome);
    }

    @Test
    void aDeadlineWithNothingListeningNamesTheAddressAndSaysNoProbeWasAnswered() {
        int port = Ports.free();
        List<String> results = new ArrayList<>();
        Outcome outcome = probe.await(port, "health", Duration.ofMillis(500), new CompletableFuture<>(), new HealthProbe.Attempts() {
            @Override
            public void sending(int attempt) {}

            @Override
            public void ended(int attempt, ProbeResult result) {
                results.add(attempt + " " + result.detail());
            }
        });

        assertFalse(outcome.healthy());
        assertEquals("not healthy after 500ms: GET http://127.0.0.1:" + port + "/health: connection refused (last of "
                + outcome.attempts() + " probes)", outcome.reason());
        assertTrue(outcome.unanswered(), outcome.toString());
        assertEquals(outcome.attempts(), results.size());
        assertEquals(outcome.attempts() + " connection refused", results.get(results.size() - 1));
    }

    @Test
    void aDeadlineAfterTheProcessExitedIsNotUnanswered() {
        Outcome outcome = probe.await(Ports.free(), "/health", Duration.ofMillis(300),
                CompletableFuture.completedFuture(1), n -> {});
        assertFalse(outcome.unanswered(), outcome.toString());
    }

    @Test
    void awaitHonoursInterruption() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(500)));
        Thread.currentThread().interrupt();
        try {
            Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(10), new CompletableFuture<>(), n -> {});
            assertEquals("interrupted", outcome.reason());
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void interruptWhileWaitingBetweenProbes() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(500)));
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        CompletableFuture<Boolean> flag = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            result.complete(probe.await(wm.port(), "/health", Duration.ofSeconds(20), new CompletableFuture<>(), n -> {}));
            flag.complete(Thread.currentThread().isInterrupted());
        });
        t.start();
        Thread.sleep(300);
        t.interrupt();
        assertEquals("interrupted", result.get(10, TimeUnit.SECONDS).reason());
        assertTrue(flag.get(10, TimeUnit.SECONDS));
    }

    @Test
    void probesOftenRightAfterLaunchSoAReadyAppIsSeenWithinTensOfMs() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(503)));
        HealthProbe.Outcome o = probe.await(wm.port(), "/health", Duration.ofSeconds(2),
                new java.util.concurrent.CompletableFuture<>(), n -> {});
        assertFalse(o.healthy());
        // At most 50 ms apart in the first seconds: dozens of probes in 2 s, where a back-off to 1 s
        // alone would make about 7. A generous floor, for a busy machine.
        assertTrue(o.attempts() >= 15, "probes in 2 s: " + o.attempts());
    }

    @Test
    void probesSendTheConfiguredHost() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(400)));
        wm.stubFor(get("/health").withHeader("Host", equalTo("shop.example.com"))
                .willReturn(aResponse().withStatus(200)));

        Outcome outcome = probe.await(wm.port(), "/health", Optional.of("shop.example.com"), Duration.ofSeconds(10),
                new CompletableFuture<>(), n -> {});

        assertTrue(outcome.healthy(), outcome.toString());
    }

    /**
     * The last probe before the deadline gets only what is left of it, on a busy machine a few ms
     * that even an app answering at once can miss. That probe timing out says nothing about the
     * app: the reason keeps the last answer, and the Host hint that comes with it. (It said
     * "timed out after 10ms", Django's 400 and the healthCheckHost hint lost, under load.)
     */
    @Test
    void aLastProbeTheDeadlineCutShortDoesNotHideTheLastAnswer() {
        String scenario = "answers, then hangs";
        wm.stubFor(get("/health").inScenario(scenario).whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(400)).willSetStateTo("hanging"));
        wm.stubFor(get("/health").inScenario(scenario).whenScenarioStateIs("hanging")
                .willReturn(aResponse().withStatus(200).withFixedDelay(60_000)));
        // Probe 2 waits for the deadline, never for its own 60 s timeout: it is the cut one.
        try (HealthProbe patient = new HealthProbe(Duration.ofSeconds(60))) {
            Outcome outcome = patient.await(wm.port(), "/health", Duration.ofSeconds(5), new CompletableFuture<>(), n -> {});

            assertFalse(outcome.healthy());
            assertEquals(2, outcome.attempts(), outcome.toString());
            assertTrue(outcome.reason().matches("not healthy after 5s: GET http://127\\.0\\.0\\.1:" + wm.port()
                    + "/health: HTTP 400 \\(probe 1 of 2; probe 2, cut short by the deadline, timed out after \\d+ms\\)"
                    + "; the app may refuse the probes' Host header .*: set healthCheckHost to a name it serves"), outcome.reason());
            assertFalse(outcome.unanswered(), "it answered");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 403, 421})
    void aRefusedHostIsNamedInTheReasonWithTheKey(int status) {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(status)));

        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofMillis(300), new CompletableFuture<>(), n -> {});

        assertFalse(outcome.healthy());
        assertTrue(outcome.reason().endsWith("/health: HTTP " + status + " (last of " + outcome.attempts() + " probes); the app may refuse the probes' Host header 127.0.0.1:"
                + wm.port() + " (Django's ALLOWED_HOSTS, Rails' config.hosts): set healthCheckHost to a name it serves"),
                outcome.reason());
    }
}
