/**
 * What a command may touch of its surroundings. `runCli` passes the real process; tests pass
 * a captured one, so commands run in-process against a real gRPC server.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM while a command runs. */
  signal: AbortSignal;
  /** Whether stderr is a terminal (progress bars redraw in place); absent: not one. */
  errIsTty?: boolean;
}

export function processIo(signal: AbortSignal): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    signal,
    errIsTty: process.stderr.isTTY === true,
  };
}

/** An io that collects output, for tests. */
export interface CapturedIo extends CliIo {
  stdout(): string;
  stderr(): string;
}

export function captureIo(options: { env?: NodeJS.ProcessEnv; cwd?: string; signal?: AbortSignal } = {}): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (text) => void out.push(text),
    err: (text) => void err.push(text),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    signal: options.signal ?? new AbortController().signal,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

/** Prints a value as JSON on stdout, one document. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}
