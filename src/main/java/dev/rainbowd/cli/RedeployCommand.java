package dev.rainbowd.cli;

import picocli.CommandLine.Command;

@Command(mixinStandardHelpOptions = true, name = "redeploy", description = {
        "Ask the running daemon to redeploy, and wait for the outcome.",
        "Exit 0 when the new generation is live, 1 when the deploy failed, 2 when the daemon is unreachable."})
final class RedeployCommand extends DeployCommand {
    @Override
    String path() {
        return "/redeploy";
    }
}
