package dev.rainbowd.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(mixinStandardHelpOptions = true, name = "redeploy", description = {
        "Ask the running daemon to redeploy, and wait for the outcome: until the new generation is live",
        "(--wait-drain: until the old one has drained and stopped too).",
        "Exit 0 when the new generation is live, 1 when the deploy failed, 2 when the daemon is unreachable."})
final class RedeployCommand extends DeployCommand {
    @Option(names = "--if-changed", description = {
            "deploy the release the releaseLink points to now, unless that swap is deployed already or being",
            "deployed (the watcher saw it first) with the config as it reads now: then wait for that deploy's",
            "outcome. After a swap in CI: one swap, one deploy. Without releaseLink, a plain redeploy."})
    boolean ifChanged;

    @Override
    String path() {
        return ifChanged ? "/redeploy?ifChanged=true" : "/redeploy";
    }
}
