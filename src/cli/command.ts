/** A `paperlab` sub-command. Each lives in its own file under src/cli and is listed in commands.ts. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Returns the exit code (default 0). Throw UsageError for misuse, PaperlabError for bad input. */
  run(argv: string[]): Promise<number | void>;
}
