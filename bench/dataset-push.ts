import { readFileSync } from 'node:fs';
// `nsml dataset push` of a tree of many files against a coordinator in its own process:
// throughput next to `cp -r` of the same tree on the same disk, then a re-push of the unchanged
// tree (bytes sent and time). Figures only, no assertions.
//
//   npm run build && node dist/bench/dataset-push.js [--files 10000] [--mib 1024] [--lanes 4]
//
// The files' times are set a minute back, as for a dataset that was written earlier, so the hash
// cache may trust them (files changed within the last second are always hashed again).
import { adminTokenPath } from '../coordinator/auth/bootstrap.js';
import { execFileSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoordinatorClient } from '../cli/client.js';
import { DatasetClient } from '../cli/commands/dataset-client.js';
import { pushDataset } from '../cli/commands/dataset-push.js';
import { captureIo } from '../cli/io.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const FILES = arg('files', 10_000);
const MIB = arg('mib', 1024);
const LANES = arg('lanes', 8);
const MB = 1_000_000;

function makeTree(root: string): number {
  const size = Math.floor((MIB * 1024 * 1024) / FILES);
  const pool = randomBytes(size + 4096);
  const past = new Date(Date.now() - 60_000);
  for (let i = 0; i < FILES; i++) {
    const file = join(root, i % 2 === 0 ? 'train' : 'test', `class${i % 50}`, `${i}.bin`);
    mkdirSync(dirname(file), { recursive: true });
    const data = Buffer.from(pool.subarray(i % 4096, (i % 4096) + size));
    data.writeUInt32LE(i, 0);
    writeFileSync(file, data);
    utimesSync(file, past, past);
  }
  return size * FILES;
}

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const dir = mkdtempSync(join(tmpdir(), 'nsml-bench-push-'));
const child = fork(fileURLToPath(new URL('./coordinator-child.js', import.meta.url)), [join(dir, 'coordinator')], { stdio: 'inherit' });
try {
  const tree = join(dir, 'tree');
  const bytes = makeTree(tree);
  execFileSync('sync');
  console.log(`tree: ${FILES} files, ${(bytes / 1024 / 1024).toFixed(0)} MiB in ${tree}`);
  const cpS = seconds(() => execFileSync('cp', ['-r', tree, join(dir, 'copy')]));
  rmSync(join(dir, 'copy'), { recursive: true, force: true });
  console.log(`cp -r:       ${cpS.toFixed(2)} s, ${(bytes / MB / cpS).toFixed(0)} MB/s`);

  const address = await new Promise<string>((resolve) => child.once('message', (m) => resolve((m as { address: string }).address)));
  const usage = () => new Promise<NodeJS.CpuUsage>((resolve) => {
    child.once('message', (m) => resolve((m as { cpu: NodeJS.CpuUsage }).cpu));
    child.send({ kind: 'usage' });
  });
  // The coordinator's first admin (its <data>/admin-token) pushes.
  const client = new CoordinatorClient({ address, token: readFileSync(adminTokenPath(join(dir, 'coordinator')), 'utf8').trim() });
  const datasets = new DatasetClient(client);
  const io = captureIo({ env: { NSML_HOME: join(dir, 'home') } });
  const push = () => pushDataset(client, datasets, { name: 'bench', dir: tree, description: '', readers: [], lanes: LANES }, io);

  const before = await usage();
  const clientBefore = process.cpuUsage();
  const first = await push();
  const clientCpu = process.cpuUsage(clientBefore);
  const after = await usage();
  const cpu = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
  const pushMbs = bytes / MB / first.seconds;
  console.log(`push:        ${first.seconds.toFixed(2)} s, ${pushMbs.toFixed(0)} MB/s (${(100 * pushMbs / (bytes / MB / cpS)).toFixed(0)} % of cp), sent ${first.sentFiles} files, ${(first.sentBytes / 1024 / 1024).toFixed(0)} MiB, ${LANES} lanes -> ${first.ref}`);
  console.log(`  CPU:       client ${cpu(clientCpu).toFixed(2)} s, coordinator ${(cpu(after) - cpu(before)).toFixed(2)} s (of ${first.seconds.toFixed(2)} s wall; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`);
  const again: number[] = [];
  let sent = 0;
  for (let i = 0; i < 3; i++) {
    const r = await push();
    again.push(r.seconds);
    sent += r.sentBytes;
  }
  again.sort((a, b) => a - b);
  console.log(`re-push:     median ${again[1]!.toFixed(2)} s of 3 (min ${again[0]!.toFixed(2)}, max ${again[2]!.toFixed(2)}), ${sent} bytes sent in all`);
  datasets.close();
  client.close();
} finally {
  child.send({ kind: 'stop' });
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
}
