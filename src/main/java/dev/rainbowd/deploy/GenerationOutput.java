package dev.rainbowd.deploy;

import dev.rainbowd.process.OutputTail;

/** What one generation wrote, kept for {@code rainbowd logs} while it runs and after it is gone. */
public record GenerationOutput(int generation, String name, OutputTail output) {}
