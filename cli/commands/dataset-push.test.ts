import { issueTestToken } from '../../test/harness/test-coordinator.js';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { type Coordinator, startCoordinator } from '../../coordinator/main.js';
import { CoordinatorClient } from '../client.js';
import { captureIo } from '../io.js';
import { DatasetClient } from './dataset-client.js';
import { pushDataset, type PushRequest } from './dataset-push.js';

let dir: string;
let data: string;
let coordinator: Coordinator;
let client: CoordinatorClient;
let datasets: DatasetClient;
let fill = 0;
const TOTAL = 20 * 300_000 + 4;

const start = () => startCoordinator({ dataDir: join(dir, 'coordinator'), port: 0, logger: silentLogger });

function write(rel: string, bytes: number | string): void {
  const abs = join(data, rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, typeof bytes === 'string' ? bytes : Buffer.alloc(bytes, fill++));
}

function connect(): void {
  client = new CoordinatorClient({ address: coordinator.address, user: 'alice', token: issueTestToken(join(dir, 'coordinator'), 'alice') });
  datasets = new DatasetClient(client);
}

function push(over: Partial<PushRequest> = {}) {
  const io = captureIo({ env: { NSML_HOME: join(dir, 'home') } });
  return pushDataset(client, datasets, { name: 'mnist', dir: data, description: '', readers: [], ...over }, io);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nsml-push-'));
  data = join(dir, 'data');
  for (let i = 0; i < 20; i++) write(`train/${i}.bin`, 300_000);
  write('test/labels.csv', 'a,b\n');
  coordinator = await start();
  connect();
});
afterEach(async () => {
  datasets.close();
  client.close();
  await coordinator.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pushDataset', () => {
  it('sends the files once; a second push of the same tree sends nothing and makes no version', async () => {
    const first = await push({ description: 'digits' });
    expect(first).toMatchObject({ ref: 'mnist@1', created: true, files: 21, bytes: TOTAL, sentFiles: 21, sentBytes: TOTAL });
    const again = await push();
    expect(again).toMatchObject({ ref: 'mnist@1', created: false, sentFiles: 0, sentBytes: 0 });
    write('test/labels.csv', 'a,b,c\n');
    expect(await push()).toMatchObject({ ref: 'mnist@2', created: true, sentFiles: 1, sentBytes: 6 });
  });

  it.each([
    ['a missing directory', () => join(dir, 'nope'), 'NSML_E_NOT_FOUND', /does not exist/],
    ['a file instead of a directory', () => join(data, 'test', 'labels.csv'), 'NSML_E_INVALID_ARGUMENT', /not a directory/],
    ['an empty directory', () => { mkdirSync(join(dir, 'empty')); return join(dir, 'empty'); }, 'NSML_E_INVALID_ARGUMENT', /holds no files/],
  ])('refuses %s', async (_what, target, code, message) => {
    await expect(push({ dir: target() })).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('refuses a symlink that leaves the directory, naming it, and commits nothing', async () => {
    writeFileSync(join(dir, 'secret'), 'outside');
    symlinkSync(join(dir, 'secret'), join(data, 'train', 'leak'));
    await expect(push()).rejects.toMatchObject({ code: 'NSML_E_WORKSPACE_SYMLINK_ESCAPES', message: expect.stringMatching(/train\/leak.*outside the dataset directory/) });
    expect(await datasets.list()).toEqual([]);
  });

  it.each([
    ['changes', () => appendFileSync(join(data, 'train', '3.bin'), 'more')],
    ['vanishes', () => rmSync(join(data, 'train', '3.bin'))],
  ])('refuses a file that %s during the push, and commits nothing', async (_what, change) => {
    await expect(push({ observe: { beforeCheck: change } })).rejects.toMatchObject({
      code: 'NSML_E_FILE_CHANGED', message: expect.stringMatching(/train\/3\.bin changed while it was being pushed.*nothing was committed/),
    });
    expect(await datasets.list()).toEqual([]);
  });

  async function restart(): Promise<void> {
    datasets.close();
    client.close();
    coordinator = await start();
    connect();
  }

  it('shows no version after the coordinator died while files were being sent; the push run again completes', async () => {
    let seen = 0;
    const killed = push({ lanes: 1, observe: { sent: (n) => { seen += n; if (seen > 1_000_000 && seen - n <= 1_000_000) coordinator.destroy(); } } });
    await expect(killed).rejects.toMatchObject({ message: expect.stringContaining('run the same push again') });
    await restart();
    expect(await datasets.list()).toEqual([]);
    expect(await push()).toMatchObject({ ref: 'mnist@1', created: true, files: 21, bytes: TOTAL });
  });

  it('resumes after the coordinator died before the commit, sending none of the files again', async () => {
    await expect(push({ observe: { beforeCheck: () => coordinator.destroy() } })).rejects.toMatchObject({ message: expect.stringContaining('no version was committed') });
    await restart();
    expect(await datasets.list()).toEqual([]);
    expect(readdirSync(join(dir, 'coordinator', 'blobs', 'partial'))).toEqual([]);
    expect(await push()).toMatchObject({ ref: 'mnist@1', created: true, files: 21, sentFiles: 0, sentBytes: 0 });
  });
});
