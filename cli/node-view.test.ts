import { describe, expect, it } from 'vitest';
import type { GpuInfo__Output, GpuProcess__Output, Node__Output } from '../common/proto/types.js';
import { formatNodeGpus, formatNodeTable, gpuCounts, gpuHealth, gpuHealthSummary, nodeSessions, nodeUsers } from './node-view.js';

const proc = (pid: number, name: string, session = ''): GpuProcess__Output => ({ pid, name, usedMemoryMib: 100, session });
const gpu = (index: number, over: Partial<GpuInfo__Output> = {}): GpuInfo__Output => ({
  index, uuid: `GPU-${index}`, name: 'H100', memoryTotalMib: 81_559, mig: '', health: 'ok', healthReason: '', processes: [], ...over,
});
const node = (gpus: GpuInfo__Output[], over: Partial<Node__Output> = {}): Node__Output => ({
  id: 'n1', state: 'ready', lastHeartbeatMs: 0, sessions: [], allocatedGpus: [], reason: '', idleSessions: [],
  inventory: { hostname: 'n1', os: '', cpus: 8, memoryMib: 1024, diskFreeMib: 0, gpus, agentVersion: '', address: '', gpuProbeError: '', labels: {}, isolation: '', pythons: [], containerRuntime: '' },
  ...over,
});

describe('node GPU columns', () => {
  it.each([
    ['no GPU', node([]), '0/0 free', '-'],
    ['all free and ok', node([gpu(0), gpu(1)]), '2/2 free', 'ok'],
    ['one allocated', node([gpu(0), gpu(1)], { allocatedGpus: [1] }), '1/2 free', 'ok'],
    ['a GPU of an nsml session is not foreign', node([gpu(0, { processes: [proc(5, 'train', 'a/b/1')] })], { allocatedGpus: [0] }), '0/1 free', 'ok'],
    ['a quarantined GPU', node([gpu(0), gpu(1, { health: 'quarantined', healthReason: 'double-bit ECC errors: 2' })]), '1/2 free',
      'GPU 1 quarantined: double-bit ECC errors: 2'],
    ['a lost GPU without a reason', node([gpu(0, { health: 'lost' })]), '0/1 free', 'GPU 0 lost: no reason given'],
    ['a foreign process', node([gpu(0), gpu(3, { processes: [proc(4242, 'python3'), proc(7, '')] })]), '1/2 free',
      'GPU 3 busy: pid 4242 (python3), pid 7 (unknown)'],
    ['two problems', node([gpu(0, { health: 'lost', healthReason: 'GPU has fallen off the bus' }), gpu(1, { processes: [proc(1, 'x')] })]), '0/2 free',
      'GPU 0 lost: GPU has fallen off the bus; GPU 1 busy: pid 1 (x)'],
    ['a probe error', node([], { inventory: { ...node([]).inventory!, gpuProbeError: 'NVIDIA-SMI has failed because it could not communicate' } }), '0/0 free',
      'probe error: NVIDIA-SMI has failed because it could …'],
  ])('%s', (_name, n, counts, health) => {
    const c = gpuCounts(n);
    expect(`${c.free}/${c.total} free`).toBe(counts);
    expect(gpuHealth(n)).toBe(health);
  });

  it.each([
    ['no GPU', node([]), '-'],
    ['all ok', node([gpu(0), gpu(1)], { allocatedGpus: [1] }), 'ok'],
    ['a quarantined GPU', node([gpu(0), gpu(1, { health: 'quarantined', healthReason: 'double-bit ECC errors: 2' })]), '1 quarantined'],
    ['faults of two kinds', node([gpu(0, { health: 'lost' }), gpu(1, { processes: [proc(1, 'x')] }), gpu(2, { processes: [proc(2, 'y')] })]), '1 lost, 2 busy'],
    ['many kinds', node(['a', 'b', 'c', 'd'].map((h, i) => gpu(i, { health: h }))), '4 faults'],
    ['a probe error', node([], { inventory: { ...node([]).inventory!, gpuProbeError: 'x'.repeat(500) } }), 'probe error'],
  ])('node ls summarises GPU health in a bounded cell: %s', (_name, n, summary) => {
    expect(gpuHealthSummary(n)).toBe(summary);
    expect(formatNodeTable([n], 0).split('\n')[1]).toMatch(new RegExp(`free  ${summary}  `));
  });

  it('a cell stays short with a hundred faulty GPUs; node show has each reason', () => {
    const n = node(Array.from({ length: 100 }, (_, i) => gpu(i, { health: 'quarantined', healthReason: `ECC error ${i}` })));
    expect(formatNodeTable([n], 0).split('\n')[1]!.length).toBeLessThan(120);
    const shown = formatNodeGpus(n, 0);
    expect(shown).toContain('ECC error 0');
    expect(shown).toContain('ECC error 99');
  });

  it('marks idle sessions', () => {
    const n = node([gpu(0), gpu(1)], { sessions: ['a/x/1', 'b/y/2'], idleSessions: ['b/y/2'], allocatedGpus: [0, 1] });
    expect(nodeSessions(n)).toBe('a/x/1 b/y/2 (idle)');
    expect(formatNodeTable([n], 0)).toMatch(/a\/x\/1 b\/y\/2 \(idle\)\n$/);
  });

  it('prints the per-GPU table of a node', () => {
    const n = node([gpu(0, { utilizationPct: 0, memoryUsedMib: 12 }), gpu(1, { health: 'quarantined', healthReason: 'thermal slowdown', processes: [proc(9, 'stress')] })], {
      sessions: ['a/x/1'], idleSessions: ['a/x/1'], allocatedGpus: [0],
    });
    const lines = formatNodeGpus(n, 0).split('\n');
    expect(lines[0]).toMatch(/^n1 {2}ready {2}0\/2 GPUs free {2}heartbeat .* {2}sessions: a\/x\/1 \(idle\)$/);
    expect(lines[1]).toMatch(/^INDEX\s+UUID\s+NAME\s+MEMORY\s+UTIL\s+TEMP\s+POWER\s+MIG\s+HEALTH\s+PROCS$/);
    expect(lines[2]).toMatch(/^0\s+GPU-0\s+H100\s+12\/81559 MiB\s+0%\s+-\s+-\s+-\s+ok\s+0$/);
    expect(lines[3]).toMatch(/^1\s+GPU-1\s+H100\s+-\/81559 MiB\s+-\s+-\s+-\s+-\s+quarantined\s+1$/);
    expect(lines.slice(5)).toEqual(['GPU 1 quarantined: thermal slowdown', 'GPU 1 pid 9 foreign 100 MiB stress', '']);
  });

  it.each([
    ['users', 'apart'],
    ['none', 'shared uid'],
    ['', '-'],
  ])('says whether a node keeps users apart (isolation %j: %s)', (isolation, shown) => {
    const n = node([], { inventory: { ...node([]).inventory!, isolation } });
    expect(nodeUsers(n)).toBe(shown);
  });

  it('adds a USERS column when some node cannot keep users apart, and says it in node show', () => {
    const apart = node([], { id: 'a', inventory: { ...node([]).inventory!, isolation: 'users' } });
    const shared = node([], { id: 's', inventory: { ...node([]).inventory!, isolation: 'none' } });
    expect(formatNodeTable([apart], 0).split('\n')[0]).not.toContain('USERS');
    const table = formatNodeTable([apart, shared], 0).split('\n');
    expect(table[0]).toMatch(/SESSIONS\s+USERS$/);
    expect(table[1]).toMatch(/^a\s.*\sapart$/);
    expect(table[2]).toMatch(/^s\s.*\sshared uid$/);
    expect(formatNodeGpus(shared, 0).split('\n')[0]).toMatch(/ {2}users: shared uid$/);
  });
});
