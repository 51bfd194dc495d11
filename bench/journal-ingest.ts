/**
 * The telemetry journal path (agent/uplink): real Python processes running the real SDK call
 * nsml.report() in a loop with NSML_TELEMETRY_FILE set (what the agent gives every rank), then
 * the agent's side reads the journal, validates every entry and builds the messages it sends
 * up (JournalReader + entryMessage), as fast as it can.
 * Figures: SDK records/s from start to exit (everything on disk at exit), agent records/s.
 * Target (the bridge's): >= 200,000 records/s on the agent's side.
 *   npm run build && node dist/bench/journal-ingest.js [--python 2] [--records 300000]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAX_LINE_BYTES } from '../agent/bridge/protocol.js';
import { JournalReader } from '../agent/uplink/journal-reader.js';
import { entryMessage } from '../agent/uplink/telemetry-entry.js';
import { arg, machine } from './core-cluster.js';

const PROCESSES = arg('python', 2);
const EACH = arg('records', 300_000);

async function writeJournal(path: string): Promise<number> {
  const sdk = fileURLToPath(new URL('../../sdk-python/src', import.meta.url));
  const code = `import nsml\nfor i in range(${EACH}):\n    nsml.report(step=i, loss=0.25, acc=0.5, lr=0.01, grad_norm=1.5, epoch=3)\n`;
  const began = performance.now();
  await Promise.all(Array.from({ length: PROCESSES }, () => new Promise<void>((resolve, reject) => {
    const child = spawn('python3', ['-c', code], {
      env: { ...process.env, PYTHONPATH: sdk, NSML_AGENT_SOCKET: join(tmpdir(), 'no-agent.sock'), NSML_TELEMETRY_FILE: path, NSML_SESSION: 'bench/scratch/1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`python exited ${c}`))));
  })));
  return (performance.now() - began) / 1000;
}

function readJournal(path: string): { records: number; dropped: number; entries: number; seconds: number } {
  const began = performance.now();
  const reader = new JournalReader(path, { maxLineBytes: MAX_LINE_BYTES });
  const id = { session: 'bench/scratch/1', epoch: 1, rank: 0 };
  let records = 0;
  let dropped = 0;
  let entries = 0;
  for (;;) {
    const batch = reader.next(64, true);
    if (batch.length === 0) break;
    for (const e of batch) {
      const out = entryMessage(id, e, () => false);
      if (out.damage) throw new Error(`entry ${e.seq}: ${out.damage}`);
      records += out.message.metricBatch?.records?.length ?? 0;
      dropped += Number(out.message.metricBatch?.dropped ?? 0);
      entries++;
    }
    reader.ack(reader.sentSeq);
  }
  reader.close();
  return { records, dropped, entries, seconds: (performance.now() - began) / 1000 };
}

const dir = await mkdtemp(join(tmpdir(), 'nsml-journal-bench-'));
try {
  console.log(machine());
  const path = join(dir, 'telemetry.jsonl');
  const sdkSeconds = await writeJournal(path);
  const total = PROCESSES * EACH;
  const bytes = (await stat(path)).size;
  console.log(`SDK: ${PROCESSES} processes × ${EACH.toLocaleString()} nsml.report() calls, ${(bytes / 1e6).toFixed(1)} MB of journal, all on disk at exit after ${sdkSeconds.toFixed(2)} s (start to exit): ${Math.round(total / sdkSeconds).toLocaleString()} records/s`);
  const agent = readJournal(path);
  // report() never blocks: a burst faster than the flusher overflows the SDK's buffer, and what it
  // drops is counted in the journal. Stored + counted must be every call.
  if (agent.records + agent.dropped !== total) throw new Error(`read ${agent.records} records and ${agent.dropped} counted drops, expected ${total} in all`);
  console.log(`SDK buffer overflow in the burst: ${agent.dropped.toLocaleString()} records dropped and counted (${(100 * agent.dropped / total).toFixed(1)} %)`);
  console.log(`agent: ${agent.entries.toLocaleString()} entries, ${agent.records.toLocaleString()} records read, validated and turned into messages in ${agent.seconds.toFixed(2)} s: ${Math.round(agent.records / agent.seconds).toLocaleString()} records/s (target >= 200,000)`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
