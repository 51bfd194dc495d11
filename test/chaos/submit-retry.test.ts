import Database from 'better-sqlite3';
import { execa } from 'execa';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorClient } from '../../cli/client.js';
import { newRequestId } from '../../cli/submit-retry.js';
import { createBlobUploader } from '../../cli/workspace/blob-uploader.js';
import { packWorkspace } from '../../cli/workspace/pack.js';
import { uploadWorkspace } from '../../cli/workspace/upload.js';
import { NSML_BIN, TestCluster } from '../harness/cluster.js';
import { makeWorkspace } from '../harness/workspace.js';

/** Concurrent submissions, each with its own request id. */
const BURST = 200;
/** The kill comes once this many sessions are stored whose Submit was not answered yet. */
const UNANSWERED_AT_KILL = 5;

/**
 * Submit is idempotent across a coordinator kill: a burst of submissions, each with its own
 * request id, is cut by kill -9 of the coordinator; every call that failed is retried with its
 * own request id after the restart; then the sessions stored are counted against the distinct
 * request ids. Calls that the coordinator committed but never answered are the ones that made
 * duplicates before request ids (15 of 250 in issue 9).
 */
describe('submit retries across a coordinator kill -9', () => {
  let cluster: TestCluster;
  let workspace: string;
  let ws: string;
  beforeAll(async () => {
    // No agents: every session stays queued, and the count is about the coordinator alone.
    cluster = await TestCluster.start({ agents: 0 });
    ws = makeWorkspace({ 'main.py': 'print("hello")\n' });
    const client = new CoordinatorClient({ address: cluster.address, user: 'e2e', token: cluster.adminToken });
    try {
      workspace = (await uploadWorkspace(await packWorkspace({ root: ws }), createBlobUploader(client))).workspace;
    } finally {
      client.close();
    }
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  async function storedSessions(): Promise<string[]> {
    const client = new CoordinatorClient({ address: cluster.address, user: 'e2e', token: cluster.adminToken });
    try {
      return (await client.listSessions({ user: 'e2e', all: true, limit: 10_000 })).map((s) => s.name);
    } finally {
      client.close();
    }
  }

  /** Submits with `requestId` until an answer comes (the restarted coordinator may not listen yet). */
  async function submitUntilAnswered(requestId: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const client = new CoordinatorClient({ address: cluster.address, user: 'e2e', token: cluster.adminToken });
      try {
        return (await client.submit({ entry: 'main.py', workspace, requestId })).name;
      } catch (err) {
        if (attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 200));
      } finally {
        client.close();
      }
    }
  }

  it('stores exactly one session per request id when every failed submission is retried with its id', async () => {
    const before = (await storedSessions()).length;
    const ids = Array.from({ length: BURST }, newRequestId);
    const answered = new Map<string, string>();
    const client = new CoordinatorClient({ address: cluster.address, user: 'e2e', token: cluster.adminToken });
    await client.ready();
    // The kill comes when the state file shows sessions whose answers have not arrived yet:
    // the calls that, without request ids, a retry would duplicate.
    const state = new Database(join(cluster.dir, 'coordinator', 'state.sqlite'), { readonly: true, fileMustExist: true });
    const count = state.prepare('SELECT count(*) AS n FROM sessions');
    const storedBefore = (count.get() as { n: number }).n;
    let killing: Promise<void> | undefined;
    const watch = setInterval(() => {
      if ((count.get() as { n: number }).n - storedBefore - answered.size >= UNANSWERED_AT_KILL) {
        clearInterval(watch);
        killing = cluster.killCoordinator();
      }
    }, 1);
    const outcomes = await Promise.allSettled(ids.map(async (requestId) => {
      answered.set(requestId, (await client.submit({ entry: 'main.py', workspace, requestId })).name);
    }));
    clearInterval(watch);
    state.close();
    client.close();
    await killing;
    const failed = ids.filter((_, i) => outcomes[i]!.status === 'rejected');
    expect(killing, 'the coordinator was killed during the burst').toBeDefined();
    expect(failed.length, 'some submissions were cut by the kill').toBeGreaterThan(0);

    await cluster.startCoordinator('3s');
    const committedUnanswered = (await storedSessions()).length - before - answered.size;
    expect(committedUnanswered, 'sessions stored whose Submit got no answer (what a blind retry duplicates)').toBeGreaterThan(0);
    for (const requestId of failed) answered.set(requestId, await submitUntilAnswered(requestId));

    const all = await storedSessions();
    const stored = all.slice(0, all.length - before);
    const names = [...answered.values()];
    expect(answered.size).toBe(BURST);
    expect(new Set(names).size, 'each request id got its own session').toBe(BURST);
    expect(stored.length, `sessions stored (${committedUnanswered} were committed but not answered before the kill)`).toBe(BURST);
    expect(new Set(stored)).toEqual(new Set(names));
  });

  it('nsml run retries while the coordinator is down and submits once it is back', async () => {
    const before = (await storedSessions()).length;
    await cluster.killCoordinator();
    const run = execa(process.execPath, [NSML_BIN, 'run', '--detach', '--json'], {
      cwd: ws, env: cluster.env(), reject: false, timeout: 60_000,
    });
    let stderr = '';
    const retrying = new Promise<void>((resolve) => {
      run.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('retrying in')) resolve();
      });
    });
    await Promise.race([retrying, run]);
    expect(stderr).toContain('NSML_E_COORDINATOR_UNAVAILABLE');
    expect(stderr).toMatch(/retrying in \d+\.\d s with the same request id [A-Za-z0-9_-]{22}/);
    await cluster.startCoordinator('3s');
    const r = await run;
    expect(r.exitCode, stderr).toBe(0);
    const { name } = JSON.parse(String(r.stdout)) as { name: string };
    const after = await storedSessions();
    expect(after.length).toBe(before + 1);
    expect(after).toContain(name);
  });
});
