import { describe, expect, it } from 'vitest';
import type { RankSpec } from './rank-spec.js';
import { sessionEnv } from './session-env.js';

const spec: RankSpec = {
  session: 'alice/mnist/3', epoch: 2, rank: 1, worldSize: 2, localWorldSize: 1, nodeRank: 1, gpuIndices: [2, 3],
  entry: 'main.py', args: [], env: { LR: '0.1', CUDA_VISIBLE_DEVICES: '0', PYTHONPATH: '/mine' },
  workspace: '', masterAddr: '10.0.0.1', masterPort: 29400, dataset: 'mnist', user: 'alice',
};
const paths = { checkpointDir: '/d/checkpoints', socket: '/d/bridge.sock', telemetry: '/d/telemetry.jsonl' };

describe('sessionEnv', () => {
  const env = sessionEnv(spec, paths, {
    base: {
      PATH: '/usr/bin', HOME: '/home/a', NSML_HOME: '/agent/home', CUDA_VISIBLE_DEVICES: '0,1,2,3', NSML_JOIN_TOKEN: 'secret',
      AWS_SECRET_ACCESS_KEY: 'cloud', LC_ALL: 'C.UTF-8', NCCL_DEBUG: 'INFO', LD_LIBRARY_PATH: '/usr/local/cuda/lib64',
    },
    sdkPath: '/repo/sdk-python/src',
    gpuDevice: (i) => (i === 3 ? 'MIG-abc' : String(i)),
  });

  it.each([
    ['CUDA_VISIBLE_DEVICES', '2,MIG-abc'],
    ['NSML_SESSION', 'alice/mnist/3'],
    ['NSML_SESSION_NAME', 'alice/mnist/3'],
    ['NSML_RANK', '1'],
    ['NSML_WORLD_SIZE', '2'],
    ['NSML_LOCAL_RANK', '0'],
    ['NSML_NODE_RANK', '1'],
    ['NSML_GPU_NUM', '2'],
    ['NSML_DATASET_NAME', 'mnist'],
    ['NSML_DATASET_PATH', ''],
    ['NSML_CHECKPOINT_DIR', '/d/checkpoints'],
    ['NSML_AGENT_SOCKET', '/d/bridge.sock'],
    ['NSML_TELEMETRY_FILE', '/d/telemetry.jsonl'],
    ['NSML_USER', 'alice'],
    ['MASTER_ADDR', '10.0.0.1'],
    ['MASTER_PORT', '29400'],
    ['RANK', '1'],
    ['WORLD_SIZE', '2'],
    ['LOCAL_RANK', '0'],
    ['LOCAL_WORLD_SIZE', '1'],
    ['PYTHONUNBUFFERED', '1'],
    ['PYTHONPATH', '/repo/sdk-python/src:/mine'],
    ['LR', '0.1'],
    ['PATH', '/usr/bin'],
  ])('%s=%j', (name, value) => {
    expect(env[name]).toBe(value);
  });

  it("does not pass the agent's own NSML_* variables on", () => {
    expect(env.NSML_HOME).toBeUndefined();
    expect(env.NSML_JOIN_TOKEN).toBeUndefined();
  });

  it('passes on only the variables of its allow-list', () => {
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
    expect([env.LC_ALL, env.NCCL_DEBUG, env.LD_LIBRARY_PATH]).toEqual(['C.UTF-8', 'INFO', '/usr/local/cuda/lib64']);
  });

  it('gives a CPU-only rank an empty CUDA_VISIBLE_DEVICES', () => {
    const cpu = sessionEnv({ ...spec, gpuIndices: [], env: {} }, paths, { base: { PYTHONPATH: '/site' }, sdkPath: '/sdk', gpuDevice: String });
    expect(cpu.CUDA_VISIBLE_DEVICES).toBe('');
    expect(cpu.NSML_GPU_NUM).toBe('0');
    expect(cpu.PYTHONPATH).toBe('/sdk:/site');
  });
});
