package dev.rainbowd.process;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The last lines a generation wrote (stdout and stderr, as they came), numbered from 1: what
 * {@code rainbowd logs} shows of a generation, live or gone, without journald; and, the last
 * {@link #REASON_LINES} of them, what a failed deploy shows of the app's own words, so a
 * SyntaxError reaches the person who deployed, not only the daemon's log. Bounded: the last
 * {@link #MAX_LINES} lines and {@link #MAX_CHARS} characters, whatever the app prints; a line
 * longer than {@link #MAX_LINE} is cut, so one huge line (a JSON log record, a query in an error)
 * cannot push out the lines before it. Written by the generation's output pump, read by the
 * deployer and the control API.
 */
public final class OutputTail {
    static final int MAX_LINES = 2000;
    static final int MAX_CHARS = 256 * 1024;
    static final int MAX_LINE = 1000;
    /** What a failed deploy's reason carries: enough for a traceback, not a screenful of noise. */
    static final int REASON_LINES = 20;
    static final int REASON_CHARS = 4096;

    /** One line and its number in the generation's output (1 for the first it wrote). */
    public record Line(long number, String text) {}

    private final ArrayDeque<Line> lines = new ArrayDeque<>(); // guarded by this
    private int chars;                                         // guarded by this
    private long written;                                      // guarded by this
    private final CompletableFuture<Void> ended = new CompletableFuture<>();

    synchronized void add(String line) {
        String kept = printable(line.length() > MAX_LINE ? line.substring(0, MAX_LINE - 1) + "…" : line);
        lines.addLast(new Line(++written, kept));
        chars += kept.length();
        while (lines.size() > MAX_LINES || chars > MAX_CHARS) chars -= lines.removeFirst().text().length();
    }

    /** The lines numbered above {@code after}, oldest first, at most the last {@code max} of them. */
    public synchronized List<Line> since(long after, int max) {
        List<Line> out = new ArrayList<>();
        for (Line l : lines) if (l.number() > after) out.add(l);
        return List.copyOf(out.subList(Math.max(0, out.size() - max), out.size()));
    }

    /** The number of the last line written so far (0 if none): where a follower goes on from. */
    public synchronized long written() {
        return written;
    }

    /** True once every process that held the output is gone: nothing more will come. */
    public boolean ended() {
        return ended.isDone();
    }

    /** The output reached its end: every process that held it is gone. */
    void end() {
        ended.complete(null);
    }

    /** The last lines, oldest first, as a failed deploy's reason carries them (20 lines, 4 KB at most). */
    public synchronized List<String> lines() {
        ArrayDeque<String> last = new ArrayDeque<>();
        int n = 0;
        for (var it = lines.descendingIterator(); it.hasNext() && last.size() < REASON_LINES; ) {
            String text = it.next().text();
            if (n + text.length() > REASON_CHARS) break;
            n += text.length();
            last.addFirst(text);
        }
        return List.copyOf(last);
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
