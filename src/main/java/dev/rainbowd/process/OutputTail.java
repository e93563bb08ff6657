package dev.rainbowd.process;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The last lines a generation wrote (stdout and stderr, as they came): what a failed deploy shows
 * of the app's own words, so a SyntaxError reaches the person who deployed, not only the daemon's
 * log. Bounded: the last {@link #MAX_LINES} lines and {@link #MAX_CHARS} characters, whatever the
 * app prints; a line longer than {@link #MAX_LINE} is cut, so one huge line (a JSON log record, a
 * query in an error) cannot push out the lines before it. Written by the generation's output pump,
 * read by the deployer.
 */
public final class OutputTail {
    static final int MAX_LINES = 20;
    static final int MAX_CHARS = 4096;
    static final int MAX_LINE = 1000;

    private final ArrayDeque<String> lines = new ArrayDeque<>(); // guarded by this
    private int chars;                                           // guarded by this
    private final CompletableFuture<Void> ended = new CompletableFuture<>();

    synchronized void add(String line) {
        String kept = printable(line.length() > MAX_LINE ? line.substring(0, MAX_LINE - 1) + "…" : line);
        lines.addLast(kept);
        chars += kept.length();
        while (lines.size() > MAX_LINES || chars > MAX_CHARS) chars -= lines.removeFirst().length();
    }

    /** The output reached its end: every process that held it is gone. */
    void end() {
        ended.complete(null);
    }

    /** The lines kept so far, oldest first. */
    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    /**
     * The lines once the output has ended, or after {@code grace} at most: a process that left the
     * generation's session could hold the pipe open for ever, and a failure is not kept waiting for it.
     */
    public List<String> linesAtEnd(Duration grace) {
        try {
            ended.get(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // what came until now
        }
        return lines();
    }

    /**
     * Control characters (an app's colours, a stray escape sequence) become '?': these lines end up
     * on the terminal of whoever ran {@code rainbowd redeploy}, which must not obey them.
     */
    private static String printable(String line) {
        StringBuilder b = null;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            boolean control = (c < 0x20 && c != '\t') || (c >= 0x7f && c < 0xa0);
            if (control && b == null) b = new StringBuilder(line.length()).append(line, 0, i);
            if (b != null) b.append(control ? '?' : c);
        }
        return b == null ? line : b.toString();
    }
}
