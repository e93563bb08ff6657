package dev.rainbowd.cli;

import dev.rainbowd.config.Config;
import dev.rainbowd.config.ConfigException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(mixinStandardHelpOptions = true, name = "check", description = "Validate the config and print the effective settings (like nginx -t).")
final class CheckCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @ParentCommand
    Main parent;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws ConfigException {
        PrintWriter out = spec.commandLine().getOut();
        Config c = config.orElse(parent.config).load();
        out.println("# " + c.file() + ": valid");
        c.describe().forEach(out::println);
        // The digest `rainbowd status` shows per generation: the same means this file is what runs.
        out.println("# config digest " + c.app().digest() + " (what a deploy launches; status shows it per generation)");
        return ExitCodes.OK;
    }
}
