/**
 * Agent ingest through the SDK bridge: records per second that the bridge server parses,
 * validates and hands to its handler. Two drivers:
 *  - lines: N in-process clients write pre-encoded `metrics` lines (1,000 records of 5 scalars
 *    each, as the SDK batches them) as fast as the socket takes them;
 *  - python: real Python processes running the real SDK call nsml.report() in a loop.
 * Target: >= 200,000 records/s.
 *   npm run build && node dist/bench/bridge-ingest.js [--clients 4] [--records 2000000] [--python 2]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../common/log.js';
import { startBridgeServer } from '../agent/bridge/bridge-server.js';
import { MemoryBridgeHandler } from '../agent/bridge/memory-handler.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function metricsLine(base: number, count: number): string {
  const records = [];
  for (let i = 0; i < count; i++) {
    records.push({ ts_ms: 1_700_000_000_000 + base + i, step: base + i, values: { 'train/loss': 0.25, acc: 0.5, lr: 0.01, grad_norm: 1.5, epoch: 3 } });
  }
  return JSON.stringify({ type: 'metrics', records }) + '\n';
}

async function lineClient(path: string, lines: number, line: string): Promise<void> {
  const socket = createConnection(path);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(JSON.stringify({ type: 'hello', v: 1, sdk: 'bench', pid: process.pid, rank: 0, session: '' }) + '\n');
  for (let i = 0; i < lines; i++) {
    if (!socket.write(line)) await new Promise<void>((resolve) => socket.once('drain', resolve));
  }
  socket.end();
}

async function runLines(clients: number, total: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nsml-ingest-'));
  const handler = new MemoryBridgeHandler('bench/scratch/1', dir);
  handler.keepBatches = false;
  const server = await startBridgeServer({ socketPath: join(dir, 's.sock'), session: 'bench/scratch/1', handler, logger: silentLogger });
  const perLine = 1000;
  const line = metricsLine(0, perLine);
  const linesEach = Math.ceil(total / perLine / clients);
  const expected = linesEach * clients * perLine;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, () => lineClient(server.socketPath, linesEach, line)));
  await handler.until(() => handler.recordCount >= expected, 600_000);
  const seconds = (performance.now() - started) / 1000;
  console.log(`lines:  ${clients} clients, ${expected.toLocaleString()} records (${(line.length / 1024).toFixed(0)} KiB lines of ${perLine}) in ${seconds.toFixed(2)} s: ${Math.round(expected / seconds).toLocaleString()} records/s, ${(expected * line.length / perLine / seconds / 1e6).toFixed(0)} MB/s`);
  await server.close(1000);
  await rm(dir, { recursive: true, force: true });
}

async function runPython(processes: number, each: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nsml-ingest-py-'));
  const handler = new MemoryBridgeHandler('bench/scratch/1', dir);
  handler.keepBatches = false;
  const server = await startBridgeServer({ socketPath: join(dir, 's.sock'), session: 'bench/scratch/1', handler, logger: silentLogger });
  const sdk = fileURLToPath(new URL('../../sdk-python/src', import.meta.url));
  const code = `import nsml\nfor i in range(${each}):\n    nsml.report(step=i, loss=0.25, acc=0.5, lr=0.01, grad_norm=1.5, epoch=3)\n`;
  const started = performance.now();
  await Promise.all(Array.from({ length: processes }, () => new Promise<void>((resolve, reject) => {
    const child = spawn('python3', ['-c', code], {
      env: { PATH: process.env.PATH, PYTHONPATH: sdk, NSML_AGENT_SOCKET: server.socketPath, NSML_SESSION: 'bench/scratch/1', NSML_BUFFER_RECORDS: String(each + 10) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`python exited ${code}`))));
  })));
  const seconds = (performance.now() - started) / 1000;
  const total = processes * each;
  console.log(`python: ${processes} processes × ${each.toLocaleString()} nsml.report() calls, all ${handler.recordCount.toLocaleString()} received in ${seconds.toFixed(2)} s (start to exit): ${Math.round(total / seconds).toLocaleString()} records/s end to end`);
  await server.close(1000);
  await rm(dir, { recursive: true, force: true });
}

await runLines(arg('clients', 4), arg('records', 2_000_000));
if (arg('python', 2) > 0) await runPython(arg('python', 2), arg('python-records', 300_000));
