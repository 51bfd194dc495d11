import type { LogLine__Output } from '../common/proto/types.js';
import type { CliIo } from './io.js';

export interface PrintLineOptions {
  /** Prefix every line with its rank (sessions with more than one process); lines of ranks above 0 always are. */
  prefixRank: boolean;
  /** Send every line to stderr (stdout is reserved for JSON). */
  allToStderr?: boolean;
}

/** Prints one log line: stdout lines on stdout, stderr and system lines on stderr. */
export function printLogLine(io: CliIo, line: LogLine__Output, options: PrintLineOptions): void {
  const prefix = (options.prefixRank || line.rank > 0 ? `[rank ${line.rank}] ` : '') + (line.stream === 'system' ? '[nsml] ' : '');
  const text = `${prefix}${line.text}\n`;
  if (line.stream === 'stdout' && !options.allToStderr) io.out(text);
  else io.err(text);
}

/** The JSON shape of a log line. */
export function logLineJson(line: LogLine__Output): Record<string, unknown> {
  return { cursor: line.cursor, rank: line.rank, seq: line.seq, tsMs: line.tsMs, stream: line.stream, text: line.text };
}
