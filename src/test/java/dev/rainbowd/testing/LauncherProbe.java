package dev.rainbowd.testing;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A stand-in for the rainbowd jar in launcher tests: the test packs this one class into a jar of its
 * own and runs {@code agent/rainbowd} on it. It prints what the launcher gave it, one
 * {@code kind<TAB>value} line each: {@code pid}, {@code arg} (its arguments), {@code jvm} (the JVM's input
 * arguments: the flags the launcher chose) and {@code mapped} (each {@code .jsa} file mapped into this
 * process, from /proc/self/maps: proof that a class-data archive is in use, not just named on the
 * command line). With the argument {@code --wait} it then says {@code ready} and sleeps until killed,
 * like the daemon does until systemd stops it. Like the daemon, it creates the file the system property
 * {@code rainbowd.cdsMarker} names (the launcher's "this run started" mark for its archive), unless its
 * argument {@code --fail-start} makes it a run that failed at start-up.
 *
 * <p>One class, no nested or anonymous classes: the jar holds exactly this class file.
 */
public final class LauncherProbe {
    private LauncherProbe() {}

    public static void main(String[] args) throws Exception {
        StringBuilder out = new StringBuilder();
        out.append("pid\t").append(ProcessHandle.current().pid()).append('\n');
        for (String a : args) out.append("arg\t").append(a).append('\n');
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) out.append("jvm\t").append(a).append('\n');
        Set<String> mapped = new LinkedHashSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            int slash = line.indexOf('/');
            if (slash >= 0 && line.endsWith(".jsa")) mapped.add(line.substring(slash));
        }
        for (String m : mapped) out.append("mapped\t").append(m).append('\n');
        boolean wait = false;
        boolean failStart = false;
        for (String a : args) {
            wait |= a.equals("--wait");
            failStart |= a.equals("--fail-start");
        }
        String marker = System.getProperty("rainbowd.cdsMarker");
        if (marker != null && !failStart) {
            Files.writeString(Path.of(marker), "");
            out.append("marked\t").append(marker).append('\n');
        }
        if (wait) out.append("ready\n");
        System.out.print(out);
        System.out.flush();
        if (wait) Thread.sleep(Long.MAX_VALUE);
    }
}
