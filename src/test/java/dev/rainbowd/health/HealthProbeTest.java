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
import dev.rainbowd.testing.TestDaemon;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HealthProbeTest {
    /**
     * Each probe's timeout: far above what WireMock takes to answer on a busy machine, so a probe
     * meant to get an answer gets it. The tests of timeouts make a probe of their own.
     */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    /** What a stub that never answers in time delays its answer: far above every timeout here. */
    private static final int HANG_MS = 120_000;
    /**
     * The end of a reason: the last answer, as "(last of N probes)", or, when the final probe was
     * cut short by the deadline and timed out, "(probe K of N; probe N, cut short by the deadline, ...)".
     */
    private static final String OF_PROBES = " \\((last of \\d+ probes?|probe \\d+ of \\d+; probe \\d+, cut short by the deadline, timed out after \\d+ms)\\)";

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
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withFixedDelay(HANG_MS)));
        try (HealthProbe quick = new HealthProbe(Duration.ofMillis(500))) {
            long start = System.nanoTime();
            ProbeResult result = quick.probe(wm.port(), "/health");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            // The answer would have been a 200: only the timeout ended the probe. It never ends early.
            assertEquals(new ProbeResult(false, "timed out after 500ms"), result);
            assertTrue(ms >= 400, "took " + ms + "ms");
        }
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
        Waits waits = new Waits();

        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(10), waits, attempts::add);

        assertTrue(outcome.healthy(), outcome.toString());
        assertNull(outcome.reason());
        assertEquals(4, outcome.attempts());
        assertEquals(List.of(1, 2, 3, 4), attempts);
        // Backoff 20, 40, 80ms (jittered down to half at least): fast apps go live fast.
        assertEquals(3, waits.millis().size(), waits.millis().toString());
        assertTrue(waits.millis().get(0) <= 20 && waits.millis().get(1) <= 40 && waits.millis().get(2) <= 50, waits.millis().toString());
    }

    @Test
    void awaitFailsByTheDeadlineNamingTheLastStatus() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(500)));
        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(2), new CompletableFuture<>(), n -> {});

        assertFalse(outcome.healthy());
        assertTrue(outcome.attempts() >= 2, outcome.toString());
        assertTrue(outcome.reason().matches("not healthy after 2s: GET http://127\\.0\\.0\\.1:" + wm.port()
                + "/health: HTTP 500" + OF_PROBES), outcome.reason());
        assertTrue(outcome.reason().contains(" of " + outcome.attempts() + " probes") || outcome.reason().contains(" of " + outcome.attempts() + ";"),
                outcome.reason());
        assertFalse(outcome.unanswered(), "the app answered: more time would not make it healthy");
        // It stops short by less than MIN_PROBE when no probe fits in what is left; never earlier.
        long least = 2_000 - HealthProbe.MIN_PROBE.toMillis();
        assertTrue(outcome.elapsed().toMillis() >= least, outcome.toString());
    }

    /** The probe that would wait 60 s for its own timeout is given what is left of the 1 s deadline. */
    @Test
    void awaitKeepsTheDeadlineWhenTheAppHangs() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withFixedDelay(HANG_MS)));
        List<String> results = new ArrayList<>();
        try (HealthProbe slow = new HealthProbe(Duration.ofSeconds(60))) {
            Outcome outcome = slow.await(wm.port(), "/health", Duration.ofSeconds(1), new CompletableFuture<>(), ended(results));
            assertFalse(outcome.healthy());
            assertTrue(outcome.reason().contains("timed out"), outcome.reason());
            assertEquals(1, results.size(), results.toString());
            Matcher m = Pattern.compile("1 timed out after (\\d+)ms").matcher(results.get(0));
            assertTrue(m.matches() && Long.parseLong(m.group(1)) <= 1_000, results.toString());
        }
    }

    @Test
    void awaitReturnsPromptlyWhenAborted() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(500)));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        List<String> results = new ArrayList<>();

        // The process exits after the first probe: the next wait between probes ends at once.
        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(60), exit, new HealthProbe.Attempts() {
            @Override
            public void sending(int attempt) {}

            @Override
            public void ended(int attempt, ProbeResult result) {
                results.add(attempt + " " + result.detail());
                exit.complete(1);
            }
        });

        assertFalse(outcome.healthy());
        assertEquals("aborted after 1 probe", outcome.reason());
        assertEquals(List.of("1 HTTP 500"), results);
    }

    @Test
    void abortCutsAHangingProbeShort() throws Exception {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(200).withFixedDelay(HANG_MS)));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        List<String> results = new ArrayList<>();
        try (HealthProbe slow = new HealthProbe(Duration.ofSeconds(60))) {
            CompletableFuture<Outcome> outcome = CompletableFuture.supplyAsync(
                    () -> slow.await(wm.port(), "/health", Duration.ofSeconds(60), exit, ended(results)));
            // The probe is at the app (it will not answer for 120 s) when the process exits.
            TestDaemon.await("the probe at the app", () -> wm.getAllServeEvents().size() == 1,
                    Duration.ofSeconds(10));
            exit.complete(137);

            assertEquals("aborted after 1 probe", outcome.get(30, TimeUnit.SECONDS).reason());
            // Cancelled, not timed out: the exit cut it, not its 60 s timeout.
            assertEquals(List.of("1 canceled"), results);
        }
    }

    private static HealthProbe.Attempts ended(List<String> results) {
        return new HealthProbe.Attempts() {
            @Override
            public void sending(int attempt) {}

            @Override
            public void ended(int attempt, ProbeResult result) {
                results.add(attempt + " " + result.detail());
            }
        };
    }

    /**
     * An exit future that notes every wait between probes: HealthProbe waits on it (so an exit
     * ends the wait), which shows the delays it chose, whatever the machine's scheduler added.
     */
    private static final class Waits extends CompletableFuture<Object> {
        private final List<Long> nanos = new CopyOnWriteArrayList<>();

        @Override
        public Object get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException,
                TimeoutException {
            nanos.add(unit.toNanos(timeout));
            return super.get(timeout, unit);
        }

        List<Long> millis() {
            return nanos.stream().map(TimeUnit.NANOSECONDS::toMillis).toList();
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
        Outcome outcome = probe.await(port, "health", Duration.ofSeconds(1), new CompletableFuture<>(), new HealthProbe.Attempts() {
            @Override
            public void sending(int attempt) {}

            @Override
            public void ended(int attempt, ProbeResult result) {
                results.add(attempt + " " + result.detail());
            }
        });

        assertFalse(outcome.healthy());
        assertEquals("not healthy after 1s: GET http://127.0.0.1:" + port + "/health: connection refused (last of "
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
        CountDownLatch firstEnded = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            result.complete(probe.await(wm.port(), "/health", Duration.ofSeconds(60), new CompletableFuture<>(),
                    new HealthProbe.Attempts() {
                        @Override
                        public void sending(int attempt) {}

                        @Override
                        public void ended(int attempt, ProbeResult r) {
                            firstEnded.countDown();
                        }
                    }));
            flag.complete(Thread.currentThread().isInterrupted());
        });
        t.start();
        // Probe 1 has ended: the thread is about to wait before probe 2 (or already waits).
        assertTrue(firstEnded.await(30, TimeUnit.SECONDS), "no probe ended");
        t.interrupt();
        assertEquals("interrupted", result.get(10, TimeUnit.SECONDS).reason());
        assertTrue(flag.get(10, TimeUnit.SECONDS));
    }

    @Test
    void probesOftenRightAfterLaunchSoAReadyAppIsSeenWithinTensOfMs() {
        wm.stubFor(get("/health").willReturn(aResponse().withStatus(503)));
        Waits waits = new Waits();
        HealthProbe.Outcome o = probe.await(wm.port(), "/health", Duration.ofSeconds(2), waits, n -> {});
        assertFalse(o.healthy());
        // At most 50 ms apart in the first seconds (2 s < EAGER_PHASE), where the back-off alone
        // would wait up to 1 s: the waits it chose, not the probes a busy machine managed to send.
        assertTrue(waits.millis().size() >= 2, waits.millis().toString());
        assertTrue(waits.millis().stream().allMatch(ms -> ms <= HealthProbe.EAGER_MAX.toMillis()), waits.millis().toString());
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

        Outcome outcome = probe.await(wm.port(), "/health", Duration.ofSeconds(1), new CompletableFuture<>(), n -> {});

        assertFalse(outcome.healthy());
        assertTrue(outcome.reason().matches(".*/health: HTTP " + status + OF_PROBES
                + "; the app may refuse the probes' Host header 127\\.0\\.0\\.1:" + wm.port()
                + " \\(Django's ALLOWED_HOSTS, Rails' config\\.hosts\\): set healthCheckHost to a name it serves"),
                outcome.reason());
    }
}
