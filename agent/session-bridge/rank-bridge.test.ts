import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import type { RankSpec } from '../runner/rank-spec.js';
import { SessionDir } from '../runner/session-dir.js';
import { RankBridge } from './rank-bridge.js';
import { RankHandler } from './rank-handler.js';
import { SeenCommands } from './seen-commands.js';

const SPEC: RankSpec = {
  session: 'alice/scratch/7', epoch: 2, rank: 0, worldSize: 1, localWorldSize: 1, nodeRank: 0, gpuIndices: [], entry: 'main.py',
  args: [], env: {}, workspace: '', masterAddr: '127.0.0.1', masterPort: 29500, dataset: '', user: 'alice',
};

describe('RankBridge socket path', () => {
  const root = mkdtempSync(join(tmpdir(), 'nsml-rank-bridge-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function open(dir: SessionDir): Promise<string> {
    const bridge = await RankBridge.open(SPEC, dir, new SeenCommands(), { handler: new RankHandler(SPEC, dir.telemetry, undefined, silentLogger), logger: silentLogger });
    const path = bridge.server.socketPath;
    await bridge.close(0);
    return path;
  }

  it('serves a new rank at SessionDir.socket, in a folder of its own', async () => {
    const dir = SessionDir.forRank(join(root, 'sessions'), SPEC.session, SPEC.epoch, 0);
    expect(await open(dir)).toBe(dir.socket);
    expect(dir.socket).toMatch(/\/\.sock\/[0-9a-f]{16}\/s$/);
  });

  it('serves a re-adopted rank where its process was told the socket is (an older agent\'s layout)', async () => {
    const dir = SessionDir.forRank(join(root, 'sessions'), SPEC.session, SPEC.epoch, 1);
    mkdirSync(dir.root, { recursive: true });
    const old = join(root, 'sessions', '.sock', 'abcdef0123456789.sock');
    dir.writeJson('launch.json', { argv: ['python3', 'main.py'], cwd: dir.workspace, env: { NSML_AGENT_SOCKET: old } });
    expect(await open(dir)).toBe(old);
  });
});
