/** An in-memory SmiStreamSpawner for unit tests: each start() is recorded and driven by the test. */
import type { SmiStream, SmiStreamHandlers, SmiStreamSpawner } from './smi-stream.js';

export interface FakeStream extends SmiStream {
  args: readonly string[];
  killed: boolean;
  print(...lines: string[]): void;
  exit(code: number | null, signal?: string | null): void;
}

export interface FakeStreamSpawner extends SmiStreamSpawner {
  streams: FakeStream[];
}

export function createFakeStreamSpawner(): FakeStreamSpawner {
  const streams: FakeStream[] = [];
  return {
    streams,
    start(args, handlers: SmiStreamHandlers) {
      const stream: FakeStream = {
        pid: 1000 + streams.length,
        args,
        killed: false,
        kill() {
          if (stream.killed) return;
          stream.killed = true;
          handlers.onExit({ code: null, signal: 'SIGKILL' });
        },
        print: (...lines) => lines.forEach((l) => handlers.onLine(l)),
        exit: (code, signal = null) => handlers.onExit({ code, signal }),
      };
      streams.push(stream);
      return stream;
    },
  };
}
