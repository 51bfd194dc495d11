import { describe, expect, test } from 'vitest';
import { COMPUTE_APP_FIELDS, USAGE_FIELDS, fieldName, invalidQueryField, parseComputeApps, parseCsvTable, parseQueryGpu } from './nvidia-smi-csv.js';
import { parseSmiList } from './nvidia-smi-list.js';

describe('--query-gpu', () => {
  test.each([
    // noheader,nounits lines as the usage sampler asks for them
    ['0, GPU-a, 35, 1024, 81559, 41, 250.12', { index: 0, uuid: 'GPU-a', utilizationPct: 35, memoryUsedMib: 1024, memoryTotalMib: 81559, temperatureC: 41, powerW: 250.12 }],
    ['1, GPU-b, [N/A], 11125, 81559, 53, [N/A]', { index: 1, uuid: 'GPU-b', memoryUsedMib: 11125, memoryTotalMib: 81559, temperatureC: 53 }],
    ['2, GPU-c, [Not Supported], [N/A], [N/A], N/A, [Unknown Error]', { index: 2, uuid: 'GPU-c' }],
  ])('%j', (line, expected) => {
    const [record] = parseQueryGpu(line, USAGE_FIELDS);
    expect(record).toEqual({
      utilizationPct: undefined,
      memoryUsedMib: undefined,
      memoryTotalMib: undefined,
      temperatureC: undefined,
      powerW: undefined,
      ...expected,
    });
  });

  test('with header and units (the default --format=csv)', () => {
    const text = 'index, name, memory.total [MiB], utilization.gpu [%], power.draw [W]\n0, NVIDIA H100 80GB HBM3, 81559 MiB, 7 %, 71.15 W\n';
    expect(parseCsvTable(text).fields).toEqual(['index', 'name', 'memory.total', 'utilization.gpu', 'power.draw']);
    expect(parseQueryGpu(text)[0]).toMatchObject({ index: 0, memoryTotalMib: 81559, utilizationPct: 7, powerW: 71.15 });
  });

  test('a GPU name with a comma is joined back', () => {
    const table = parseCsvTable('index, name, memory.total [MiB]\n0, Weird, Inc. GPU, 1024 MiB\n');
    expect(table.rows[0]).toEqual({ index: '0', name: 'Weird, Inc. GPU', 'memory.total': '1024 MiB' });
  });

  test.each([
    ['memory.used [MiB]', 'memory.used'],
    ['utilization.gpu [%]', 'utilization.gpu'],
    [' temperature.gpu', 'temperature.gpu'],
  ])('fieldName(%j) = %j', (header, name) => {
    expect(fieldName(header)).toBe(name);
  });

  test.each([
    ['Field "temperature.memory" is not a valid field to query.\n\n', 'temperature.memory'],
    ['Invalid combination of input arguments.', undefined],
  ])('invalidQueryField(%j)', (text, field) => {
    expect(invalidQueryField(text)).toBe(field);
  });
});

describe('--query-compute-apps', () => {
  test.each([
    ['GPU-a, 00000000:01:00.0, 4242, 22430, /usr/bin/python3', [{ pid: 4242, name: '/usr/bin/python3', usedMemoryMib: 22430 }]],
    ['GPU-a, 00000000:01:00.0, 77, 120, /opt/chrome --type=gpu-process --flags=a,b,c', [{ pid: 77, name: '/opt/chrome --type=gpu-process --flags=a,b,c', usedMemoryMib: 120 }]],
    ['GPU-a, 00000000:01:00.0, 12444, [N/A], C:\\Program Files (x86)\\App\\x.exe', [{ pid: 12444, name: 'C:\\Program Files (x86)\\App\\x.exe', usedMemoryMib: undefined }]],
    ['GPU-a, 00000000:01:00.0, notapid, 1, x', []],
  ])('%j', (line, expected) => {
    const records = parseComputeApps(line, COMPUTE_APP_FIELDS).map(({ pid, name, usedMemoryMib }) => ({ pid, name, usedMemoryMib }));
    expect(records).toEqual(expected);
  });

  test('one PID on two GPUs stays two records', () => {
    const text = 'GPU-a, 0:81:00.0, 100477, 22430, llama-server\nGPU-b, 0:C1:00.0, 100477, 17246, llama-server\n';
    expect(parseComputeApps(text, COMPUTE_APP_FIELDS).map((r) => [r.gpuUuid, r.pid, r.usedMemoryMib])).toEqual([
      ['GPU-a', 100477, 22430],
      ['GPU-b', 100477, 17246],
    ]);
  });
});

describe('-L', () => {
  test.each([
    ['GPU 0: Tesla T4 (UUID: GPU-1)', [{ index: 0, name: 'Tesla T4', uuid: 'GPU-1', mig: [] }]],
    [
      'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)\n  MIG 3g.40gb     Device  0: (UUID: MIG-0)\n  MIG 1g.10gb     Device  1: (UUID: MIG-1)\nGPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-1)',
      [
        { index: 0, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-0', mig: [{ index: 0, profile: '3g.40gb', uuid: 'MIG-0' }, { index: 1, profile: '1g.10gb', uuid: 'MIG-1' }] },
        { index: 1, name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-1', mig: [] },
      ],
    ],
    ['  MIG 1g.5gb Device 0: (UUID: MIG-GPU-x/7/0)\nGPU 2: Graphics Device (UUID: GPU-2)', [{ index: 2, name: 'Graphics Device', uuid: 'GPU-2', mig: [] }]],
    ['No devices were found', []],
  ])('%j', (text, expected) => {
    expect(parseSmiList(text)).toEqual(expected);
  });
});
