// Log throughput end to end on a real local cluster (one coordinator, one agent): a session
// prints --mb MB of numbered lines as fast as Python writes them; a client follows it through
// the Logs RPC (cli/log-follow.ts, as `nsml run` does) from the moment it is submitted. Prints
// MB/s from the session's start (its `running` event) until the last line has been stored and
// delivered through Logs, then reads the whole log back through Logs once more and checks that
// every printed line is there once, in order: "dropped: 0" or the count. Figures only.
//
// A second session of the same output, read by nobody while it runs, shows how fast lines are
// stored alone (--no-unread skips it).
//
//   npm run build && node dist/bench/core-log-throughput.js [--mb 50] [--width 100] [--no-unread]
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoordinatorClient } from '../cli/client.js';
import { followLogs } from '../cli/log-follow.js';
import { createBlobUploader } from '../cli/workspace/blob-uploader.js';
import { packWorkspace } from '../cli/workspace/pack.js';
import { uploadWorkspace } from '../cli/workspace/upload.js';
import { rankDirName } from '../agent/runner/session-dir.js';
import { BenchCluster, arg, machine, printTable, writeFiles } from './core-cluster.js';

const MB = arg('mb', 50);
const WIDTH = arg('width', 100); // bytes per line, newline included
const LINES = Math.round((MB * 1e6) / WIDTH);

/** Line i is its number on 10 digits, a space, then padding: WIDTH bytes with the newline. */
const ENTRY = `import sys
lines, width = int(sys.argv[1]), int(sys.argv[2])
pad = "x" * (width - 12)
write = sys.stdout.write
for i in range(lines):
    write("%010d %s\\n" % (i, pad))
`;

function expectedLine(i: number): string {
  return `${String(i).padStart(10, '0')} ${'x'.repeat(WIDTH - 12)}`;
}

/** Checks lines against what was printed: `missing` never came, `unexpected` came altered, twice or late. */
class LineCheck {
  private next = 0;
  private gaps = 0;
  unexpected = 0;
  lastAtMs = NaN;

  see(text: string): void {
    this.lastAtMs = Date.now();
    const n = Number(text.slice(0, 10));
    if (!Number.isInteger(n) || n >= LINES || text !== expectedLine(n)) this.unexpected++;
    else if (n === this.next) this.next++;
    else if (n > this.next) {
      this.gaps += n - this.next;
      this.next = n + 1;
    } else this.unexpected++;
  }

  get missing(): number {
    return this.gaps + (LINES - this.next);
  }
}

/** First and last frame times of output.log: when the supervisor read the first and last output. */
function frameSpan(path: string): { first: number; last: number } {
  const fd = openSync(path, 'r');
  const size = statSync(path).size;
  const header = Buffer.alloc(13);
  let first = NaN;
  let last = NaN;
  try {
    for (let at = 0; at + 13 <= size; at += 13 + header.readUInt32BE(9)) {
      readSync(fd, header, 0, 13, at);
      last = Number(header.readBigUInt64BE(1));
      if (Number.isNaN(first)) first = last;
    }
  } finally {
    closeSync(fd);
  }
  return { first, last };
}

async function readBack(client: CoordinatorClient, name: string): Promise<{ check: LineCheck; ms: number; lines: number }> {
  const check = new LineCheck();
  let lines = 0;
  const t = performance.now();
  await followLogs(client, { name, follow: false, onLine: (l) => (lines++, check.see(l.text)) });
  return { check, ms: performance.now() - t, lines };
}

const BYTES = LINES * WIDTH;

function rate(ms: number): string {
  return `${(BYTES / 1e6 / (ms / 1000)).toFixed(1)} MB/s (${(ms / 1000).toFixed(2)} s)`;
}

/** Event time of `state`, in ms after t0. */
function eventAt(session: { events: Array<{ state: string; tsMs: number }> }, state: string, t0: number): number {
  return (session.events.find((e) => e.state === state)?.tsMs ?? NaN) - t0;
}

/** A session followed live from its submission, then read back whole. */
async function followed(cluster: BenchCluster, client: CoordinatorClient, workspace: string): Promise<number> {
  const live = new LineCheck();
  const t0 = Date.now();
  const s = await client.submit({ entry: 'main.py', workspace, args: [String(LINES), String(WIDTH)] });
  await followLogs(client, { name: s.name, follow: true, onLine: (l) => live.see(l.text) });
  const full = await client.getSession(s.name);
  const running = eventAt(full, 'running', t0);
  const span = frameSpan(join(cluster.agentDir('node1'), 'sessions', rankDirName(full.name, full.epoch, 0), 'output.log'));
  const back = await readBack(client, s.name);
  const lastLine = live.lastAtMs - t0;
  console.log(`\n${s.name}, followed live by a Logs reader: ${full.state}; printed ${LINES.toLocaleString()} lines of ${WIDTH} bytes = ${(BYTES / 1e6).toFixed(0)} MB`);
  printTable([
    ['session running → last line delivered through Logs', rate(lastLine - running)],
    ['submit → last line delivered through Logs', rate(lastLine)],
    ['Python writing it (first → last output frame)', rate(span.last - span.first)],
    ['last output frame → last line delivered (lag at the end)', `${(lastLine - (span.last - t0)).toFixed(0)} ms`],
    ['session running → succeeded (told after every line is stored)', rate(eventAt(full, 'succeeded', t0) - running)],
    ['whole log read back through Logs afterwards', `${back.lines.toLocaleString()} lines, ${rate(back.ms)}`],
    ['followed live: lines missing / unexpected', `${live.missing} / ${live.unexpected}`],
    ['read back: lines missing / unexpected', `${back.check.missing} / ${back.check.unexpected}`],
  ]);
  const unexpected = live.unexpected + back.check.unexpected;
  return Math.max(live.missing, back.check.missing) + unexpected;
}

/** A session nobody reads while it runs: how fast lines are stored alone. */
async function unfollowed(client: CoordinatorClient, workspace: string): Promise<number> {
  const t0 = Date.now();
  const s = await client.submit({ entry: 'main.py', workspace, args: [String(LINES), String(WIDTH)] });
  let end = await client.waitSession(s.name, 60_000);
  while (!['succeeded', 'failed', 'stopped', 'lost', 'preempted'].includes(end.state)) end = await client.waitSession(s.name, 60_000);
  const full = await client.getSession(s.name);
  const back = await readBack(client, s.name);
  console.log(`\n${s.name}, with no reader while it runs: ${full.state}`);
  printTable([
    ['session running → succeeded (every line stored)', rate(eventAt(full, 'succeeded', t0) - eventAt(full, 'running', t0))],
    ['read back: lines missing / unexpected', `${back.check.missing} / ${back.check.unexpected}`],
  ]);
  return back.check.missing + back.check.unexpected;
}

async function main(): Promise<void> {
  console.log(machine());
  const cluster = await BenchCluster.start({ agents: 1 });
  const ws = mkdtempSync(join(tmpdir(), 'nsml-bench-logs-'));
  const client = cluster.client();
  try {
    writeFiles(ws, { 'main.py': ENTRY });
    const { workspace } = await uploadWorkspace(await packWorkspace({ root: ws }), createBlobUploader(client));
    const lost = await followed(cluster, client, workspace);
    const lostUnread = process.argv.includes('--no-unread') ? 0 : await unfollowed(client, workspace);
    console.log(`\ndropped: ${lost + lostUnread}${lost + lostUnread > 0 ? ' (lines missing, repeated, out of order or altered)' : ''}`);
  } finally {
    client.close();
    await cluster.close();
    rmSync(ws, { recursive: true, force: true });
  }
}

await main();
