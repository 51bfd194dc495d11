import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseSmiList } from './nvidia-smi-list.js';
import { parseSmiXml } from './nvidia-smi-xml.js';
import { inScope, parseCudaVisibleDevices, resolveScope } from './scope.js';
import { fixture } from './test-fixtures/fake-smi.js';
import { buildUnits, cudaVisibleDevices } from './units.js';

const mig = parseSmiXml(readFileSync(fixture('mig-a100.xml'), 'utf8'))!;
const migList = parseSmiList(readFileSync(fixture('mig-a100.list.txt'), 'utf8'));

describe('buildUnits', () => {
  test('MIG instances become the units, numbered by position on the node', () => {
    const units = buildUnits(mig.gpus, migList);
    expect(units.map((u) => [u.index, u.physicalIndex, u.mig, u.uuid, u.memoryTotalMib])).toEqual([
      [0, 0, '2g.20gb', 'MIG-dddddddd-0000-0000-0000-000000000000', 19968],
      [1, 0, '1g.10gb', 'MIG-dddddddd-0000-0000-0000-000000000001', 9856],
      [2, 1, '', 'GPU-cccccccc-0000-0000-0000-000000000001', 40960],
    ]);
    expect(units[0]!.processes.map((p) => p.pid)).toEqual([7000]);
    expect(units[1]!.processes).toEqual([]);
    expect(units[0]!.utilizationPct).toBeUndefined();
  });

  test('without -L, MIG units get the legacy MIG-GPU-<uuid>/<gi>/<ci> name', () => {
    const units = buildUnits(mig.gpus);
    expect(units[0]!.uuid).toBe('MIG-GPU-cccccccc-0000-0000-0000-000000000000/1/0');
    expect(units[0]!.mig).toBe('gi1');
  });

  test('graphics-only processes do not count as holders', () => {
    const sick = parseSmiXml(readFileSync(fixture('v13-sick.xml'), 'utf8'))!;
    expect(buildUnits(sick.gpus)[0]!.processes.map((p) => p.pid)).toEqual([4242]);
  });

  test.each([
    [[{ index: 0, uuid: 'GPU-a' }, { index: 1, uuid: 'GPU-b' }], 'GPU-a,GPU-b'],
    [[{ index: 0, uuid: 'MIG-x', mig: '1g.10gb' }], 'MIG-x'],
    [[{ index: 2, uuid: '' }, { index: 3, uuid: 'GPU-d' }], '2,3'],
  ])('cudaVisibleDevices(%j) = %j', (units, expected) => {
    expect(cudaVisibleDevices(units)).toBe(expected);
  });
});

describe('scope', () => {
  test.each([
    [undefined, undefined],
    ['', { indices: [], ids: [] }],
    ['0,2', { indices: [0, 2], ids: [] }],
    ['1, GPU-abc', { indices: [1], ids: ['GPU-abc'] }],
    ['0,-1,2', { indices: [0], ids: [] }],
    ['NoDevFiles', { indices: [], ids: [] }],
    ['MIG-dddd', { indices: [], ids: ['MIG-dddd'] }],
  ])('CUDA_VISIBLE_DEVICES=%j', (value, expected) => {
    const scope = parseCudaVisibleDevices(value);
    expect(scope && { indices: [...scope.indices], ids: scope.ids }).toEqual(expected);
  });

  test('--gpus wins over CUDA_VISIBLE_DEVICES', () => {
    expect(resolveScope([3], { CUDA_VISIBLE_DEVICES: '0' })?.source).toBe('--gpus');
    expect(resolveScope(undefined, { CUDA_VISIBLE_DEVICES: '0' })?.source).toBe('CUDA_VISIBLE_DEVICES');
    expect(resolveScope(undefined, {})).toBeUndefined();
  });

  test.each([
    ['0', { physicalIndex: 0, uuid: 'MIG-1', parentUuid: 'GPU-p' }, true],
    ['1', { physicalIndex: 0, uuid: 'MIG-1', parentUuid: 'GPU-p' }, false],
    ['GPU-p', { physicalIndex: 0, uuid: 'MIG-1', parentUuid: 'GPU-p' }, true],
    ['MIG-1', { physicalIndex: 0, uuid: 'MIG-1', parentUuid: 'GPU-p' }, true],
    ['MIG-2', { physicalIndex: 0, uuid: 'MIG-1', parentUuid: 'GPU-p' }, false],
    ['GPU-8f0e', { physicalIndex: 5, uuid: 'GPU-8f0e5c11' }, true],
  ])('CUDA_VISIBLE_DEVICES=%j selects %j: %s', (value, unit, expected) => {
    expect(inScope(parseCudaVisibleDevices(value), unit)).toBe(expected);
  });
});
