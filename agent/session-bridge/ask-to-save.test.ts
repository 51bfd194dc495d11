import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import type { AgentMessage } from '../../common/proto/types.js';
import type { CheckpointSaveRequest } from '../bridge/handler.js';
import { runPython, type PythonRun } from '../bridge/test-fixtures/python.js';
import type { StreamLink } from '../connection/connection.js';
import type { RankSpec } from '../runner/rank-spec.js';
import { SessionDir } from '../runner/session-dir.js';
import { SessionBridges } from './session-bridges.js';
import { shipJournal } from '../testing/telemetry-link.js';

const SPEC: RankSpec = {
  session: 'alice/scratch/9', epoch: 3, rank: 0, worldSize: 1, localWorldSize: 1, nodeRank: 0, gpuIndices: [], entry: 'main.py',
  args: [], env: {}, workspace: '', masterAddr: '127.0.0.1', masterPort: 29500, dataset: '', user: 'alice',
};

class Link implements StreamLink {
  readonly sent: AgentMessage[] = [];
  open = true;
  send(m: AgentMessage): boolean {
    this.sent.push(m);
    return true;
  }
}

let root: string | undefined;
let bridges: SessionBridges | undefined;
let script: PythonRun | undefined;
let stopShipping: (() => void) | undefined;

afterEach(async () => {
  if (script && script.child.exitCode === null) script.child.kill('SIGKILL');
  await script?.exit;
  await bridges?.closeAll();
  stopShipping?.();
  stopShipping = undefined;
  if (root) rmSync(root, { recursive: true, force: true });
  root = bridges = script = undefined;
});

function setup(saveFails = false) {
  root = mkdtempSync(join(tmpdir(), 'nsml-ask-'));
  const dir = new SessionDir(join(root, 'r'));
  const link = new Link();
  const journal = shipJournal(SPEC, dir, link, (key, r) => bridges?.takeOwn(key, r) ?? false);
  stopShipping = journal.close;
  const telemetry = journal.shipper;
  const saves: CheckpointSaveRequest[] = [];
  bridges = new SessionBridges({
    telemetry, logger: silentLogger, rankPhase: () => 'running',
    checkpoints: () => ({
      save: async (request) => {
        if (saveFails) throw new Error('the blob service is down');
        saves.push(request);
        return { files: request.files.length, bytes: 1, uploadedBytes: 1 };
      },
      load: () => Promise.reject(new Error('not in this test')),
    }),
  });
  return { dir, link, saves, b: bridges };
}

/** Opens the rank's bridge and starts the script; resolves once its first metrics arrived (it said hello). */
async function connected(b: SessionBridges, dir: SessionDir, link: Link): Promise<void> {
  await b.open(SPEC, dir);
  script = runPython('sdk-commands.py', [], { NSML_AGENT_SOCKET: dir.socket, NSML_CHECKPOINT_DIR: dir.checkpoints, NSML_SESSION: SPEC.session, NSML_FLUSH_INTERVAL_MS: '50' }, root!);
  await expect.poll(() => link.sent.some((m) => m.metricBatch), { timeout: 20_000 }).toBe(true);
}

describe('SessionBridges.askToSave', () => {
  it('has the script save with its bound save; the result stays on the agent, the save event is shipped', async () => {
    const { dir, link, saves, b } = setup();
    await connected(b, dir, link);
    const outcome = await b.askToSave(SPEC, 'preempted-3', 20_000);
    expect(outcome).toEqual({ outcome: 'saved' });
    expect(saves.map((s) => [s.name, s.source])).toEqual([['preempted-3', 'sdk']]);
    expect(link.sent.filter((m) => m.commandResult)).toEqual([]);
    await expect.poll(() => link.sent.flatMap((m) => m.metricBatch?.events ?? []).map((e) => [e.kind, e.name])).toContainEqual(['save', 'preempted-3']);
  });

  it('says the save failed with the script’s message', async () => {
    const { dir, link, b } = setup(true);
    await connected(b, dir, link);
    const outcome = await b.askToSave(SPEC, 'preempted-3', 20_000);
    expect(outcome.outcome).toBe('failed');
    expect(outcome.outcome === 'failed' && outcome.message).toContain('the blob service is down');
  });

  it('answers at once when no script is connected, and times out when the script never answers', async () => {
    const { dir, link, b } = setup();
    expect(await b.askToSave(SPEC, 'x', 10_000)).toEqual({ outcome: 'no script' }); // no bridge yet
    await b.open(SPEC, dir);
    expect(await b.askToSave(SPEC, 'x', 10_000)).toEqual({ outcome: 'no script' }); // bridge, no script
    await connected(b, dir, link);
    script!.child.kill('SIGSTOP');
    expect(await b.askToSave(SPEC, 'x', 300)).toEqual({ outcome: 'timed out' });
    script!.child.kill('SIGKILL');
  });
});
