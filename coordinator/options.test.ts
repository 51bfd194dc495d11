import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT } from '../common/config.js';
import { decideBackfill, decideDefault, decideFirstFit } from './scheduler/index.js';
import { compileCoordinatorOptions, type CoordinatorOptions } from './options.js';

describe('compileCoordinatorOptions', () => {
  it('fills the documented defaults', () => {
    const o = compileCoordinatorOptions({ dataDir: '/tmp/x' });
    expect(o).toMatchObject({
      host: '127.0.0.1', port: DEFAULT_PORT, heartbeatIntervalMs: 2000, heartbeatTimeoutMs: 15000, stopGraceMs: 10000,
      scheduleIntervalMs: 1000, joinToken: undefined,
    });
    expect(o).toMatchObject({ policy: 'default', usageHalfLifeMs: 7 * 24 * 3_600_000 });
    expect(o.decide).toBe(decideDefault);
  });

  it.each([['first-fit', decideFirstFit], ['backfill', decideBackfill]])('selects the %s policy by name', (policy, decide) => {
    expect(compileCoordinatorOptions({ dataDir: '/tmp/x', policy }).decide).toBe(decide);
  });

  it.each<[string, Partial<CoordinatorOptions>]>([
    ['no dataDir', { dataDir: '' }],
    ['a port out of range', { port: 70000 }],
    ['a negative interval', { heartbeatIntervalMs: -1 }],
    ['a timeout not above the interval', { heartbeatIntervalMs: 1000, heartbeatTimeoutMs: 1000 }],
    ['an empty join token', { joinToken: '' }],
    ['a negative grace', { stopGraceMs: -5 }],
    ['an unknown policy', { policy: 'lottery' }],
    ['the simulator-only oracle policy', { policy: 'sjf-oracle' }],
  ])('rejects %s with NSML_E_CONFIG', (_what, over) => {
    expect(() => compileCoordinatorOptions({ dataDir: '/tmp/x', ...over })).toThrow(expect.objectContaining({ code: 'NSML_E_CONFIG' }));
  });
});
