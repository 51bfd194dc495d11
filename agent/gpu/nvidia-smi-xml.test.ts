import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseSmiXml } from './nvidia-smi-xml.js';
import { parseSmiText } from './nvidia-smi-text.js';
import { fixture } from './test-fixtures/fake-smi.js';

const read = (name: string) => parseSmiXml(readFileSync(fixture(name), 'utf8'))!;

describe('parseSmiXml on the committed fixtures', () => {
  test.each([
    // file, gpu, field, expected
    ['v9-double-bit.xml', 0, 'name', 'Tesla P100-PCIE-16GB'],
    ['v9-double-bit.xml', 0, 'powerW', 31.5],
    ['v9-double-bit.xml', 0, 'pciBusId', '0000:04:00.0'],
    ['v13-sick.xml', 0, 'powerW', 612.4],
    ['v13-sick.xml', 0, 'utilizationPct', 97],
    ['v13-sick.xml', 1, 'powerW', undefined],
    ['v13-sick.xml', 1, 'temperatureC', 94],
    ['mig-a100.xml', 0, 'utilizationPct', undefined],
    ['mig-a100.xml', 0, 'migEnabled', true],
    ['mig-a100.xml', 1, 'migEnabled', false],
    ['h100-x8.xml', 7, 'uuid', 'GPU-8f0e7c11-5a1d-4e77-9c3b-000000000077'],
    ['h100-x8.xml', 3, 'memoryTotalMib', 81559],
  ] as const)('%s GPU %i %s = %j', (file, gpu, field, expected) => {
    expect(read(file).gpus[gpu]![field]).toEqual(expected);
  });

  test.each([
    ['v9-double-bit.xml', 0, { volatileUncorrectable: 2, retiredPagesPending: true, throttle: [], repairs: [] }],
    ['v13-sick.xml', 0, { volatileUncorrectable: 0, remappedRowsPending: false, remappedRowsFailure: false, throttle: [], repairs: [] }],
    [
      'v13-sick.xml',
      1,
      {
        volatileUncorrectable: 3,
        remappedRowsPending: true,
        remappedRowsFailure: true,
        throttle: ['hw_slowdown', 'hw_thermal_slowdown'],
        recoveryAction: 'Reset',
        repairs: ['unrepairable_memory'],
      },
    ],
  ] as const)('%s GPU %i health signals', (file, gpu, expected) => {
    expect(read(file).gpus[gpu]!.signals).toMatchObject(expected);
  });

  test('MIG devices and processes with instance ids', () => {
    const gpu = read('mig-a100.xml').gpus[0]!;
    expect(gpu.migDevices.map((d) => [d.index, d.gpuInstanceId, d.memoryTotalMib, d.memoryUsedMib])).toEqual([
      [0, 1, 19968, 9000],
      [1, 2, 9856, 11],
    ]);
    expect(gpu.processes).toEqual([{ pid: 7000, name: 'python', type: 'C', usedMemoryMib: 8990, gpuInstanceId: 1, computeInstanceId: 0 }]);
  });

  test('a process name with commas and quotes is kept whole', () => {
    expect(read('v13-sick.xml').gpus[0]!.processes[0]!.name).toBe('python train.py --lr 0.1, --tag "a,b"');
  });

  test('-i N numbers the GPU N, and text that is not a report is refused', () => {
    const one = readFileSync(fixture('v9-double-bit.xml'), 'utf8');
    expect(parseSmiXml(one, 5)!.gpus[0]!.index).toBe(5);
    expect(parseSmiXml('NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver.')).toBeUndefined();
    expect(parseSmiXml('<other/>')).toBeUndefined();
  });
});

describe('parseSmiText', () => {
  test('reads the outline of a -q report', () => {
    const text = [
      '==============NVSMI LOG==============',
      'Driver Version                            : 535.161.08',
      'Attached GPUs                             : 1',
      'GPU 00000000:19:00.0',
      '    Product Name                          : NVIDIA H100 80GB HBM3',
      '    GPU UUID                              : GPU-1',
      '    Clocks Event Reasons',
      '        HW Slowdown                       : Active',
      '            HW Thermal Slowdown           : Not Active',
      '            HW Power Brake Slowdown       : Active',
      '    FB Memory Usage',
      '        Total                             : 81559 MiB',
      '    Processes',
      '        GPU instance ID                   : N/A',
      '        Compute instance ID               : N/A',
      '        Process ID                        : 2180559',
      '            Type                          : C',
      '            Name                          : /opt/conda/bin/python',
      '            Used GPU Memory               : 22072 MiB',
    ].join('\n');
    const report = parseSmiText(text)!;
    expect(report.driverVersion).toBe('535.161.08');
    expect(report.gpus[0]).toMatchObject({ name: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-1', memoryTotalMib: 81559, pciBusId: '00000000:19:00.0' });
    expect(report.gpus[0]!.signals.throttle).toEqual(['hw_slowdown', 'hw_power_brake_slowdown']);
    expect(report.gpus[0]!.processes).toEqual([
      { pid: 2180559, type: 'C', name: '/opt/conda/bin/python', usedMemoryMib: 22072, gpuInstanceId: undefined, computeInstanceId: undefined },
    ]);
  });
});
