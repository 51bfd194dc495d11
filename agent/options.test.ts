import { describe, expect, it } from 'vitest';
import { compileAgentOptions, type AgentOptions } from './options.js';

const base: AgentOptions = { coordinator: '127.0.0.1:7450', dataDir: '/tmp/nsml-agent-options' };

describe('compileAgentOptions', () => {
  it('fills the documented defaults', () => {
    const o = compileAgentOptions(base);
    expect(o).toMatchObject({
      python: 'python3', stopGraceMs: 10_000, reconnectMinMs: 250, reconnectMaxMs: 5_000, logFlushMs: 50,
      maxLineBytes: 65_536, joinToken: '', gpus: undefined, nodeId: undefined, idleWindowMs: 30 * 60_000,
    });
    expect(o.sdkPath).toMatch(/sdk-python\/src$/);
    expect(o.advertiseAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  });

  it.each([
    ['no coordinator', { coordinator: '' }, /coordinator.*HOST:PORT/],
    ['a coordinator without a port', { coordinator: 'host' }, /HOST:PORT/],
    ['no data folder', { dataDir: '' }, /dataDir/],
    ['a negative grace', { stopGraceMs: -1 }, /stopGraceMs/],
    ['a max backoff below the min', { reconnectMinMs: 500, reconnectMaxMs: 100 }, /reconnectMaxMs/],
    ['repeated GPUs', { gpus: [0, 0] }, /distinct/],
    ['negative GPUs', { gpus: [-1] }, /gpus/],
    ['a negative idle window', { idleWindowMs: -5 }, /idleWindowMs/],
  ])('rejects %s', (_what, patch, message) => {
    expect(() => compileAgentOptions({ ...base, ...patch } as AgentOptions)).toThrow(message);
  });

  it('accepts an IPv6 coordinator in brackets and keeps explicit values', () => {
    const o = compileAgentOptions({ ...base, coordinator: '[::1]:7450', gpus: [1, 0], python: '/opt/py/bin/python3' });
    expect(o.coordinator).toBe('[::1]:7450');
    expect(o.gpus).toEqual([1, 0]);
    expect(o.python).toBe('/opt/py/bin/python3');
  });
});
