import { CoordinatorClient } from './client.js';
import type { CliIo } from './io.js';

/** One command (or command group) of the `nsml` CLI. */
export interface Command {
  /** Full help text for `nsml CMD --help`. */
  usage: string;
  /** Runs the command; resolves to the exit status. Throws NsmlError on failure. */
  run(argv: string[], io: CliIo): Promise<number>;
}

/** Runs `fn` with a client for the coordinator that `io.env` names, and closes it after. */
export async function withClient<T>(io: CliIo, fn: (client: CoordinatorClient) => Promise<T>): Promise<T> {
  const client = new CoordinatorClient({ env: io.env });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Prints a command's help on stdout; exit status 0. */
export function printUsage(io: CliIo, usage: string): number {
  io.out(usage);
  return 0;
}
