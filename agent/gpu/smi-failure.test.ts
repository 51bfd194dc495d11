import { describe, expect, test } from 'vitest';
import { classifySmiFailure, isNodeFailure, parseHandleErrors } from './smi-failure.js';

const DRIVER = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n";

describe('classifySmiFailure', () => {
  test.each([
    [DRIVER, DRIVER, 9, 'driver-not-loaded'],
    ["NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\nMake sure that the latest NVIDIA driver is installed and running.\n", '', 9, 'driver-not-loaded'],
    ['Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 570.124\n', '', 18, 'version-mismatch'],
    ['Failed to initialize NVML: Unknown Error\n', '', 255, 'nvml-error'],
    ["NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that the NVIDIA Display Driver is properly installed and present in your system.\nPlease also try adding directory that contains libnvidia-ml.so to your system PATH.\n", '', 12, 'nvml-missing'],
    ['No devices were found\n', '', 6, 'no-devices'],
    ['Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost.  Reboot the system to recover this GPU\n', '', 15, 'gpu-handle'],
    ['Unable to determine the device handle for GPU0000:65:00.0: Unknown Error\n', '', 255, 'gpu-handle'],
    ['Field "temperature.memory" is not a valid field to query.\n\n', '', 2, 'invalid-field'],
    ['', '', 255, 'other'],
    ['', '', 9, 'driver-not-loaded'],
  ])('%j (stderr %j, exit %i) → %s', (stdout, stderr, code, kind) => {
    const failure = classifySmiFailure(stdout, stderr, code);
    expect(failure.kind).toBe(kind);
    expect(failure.message.length).toBeGreaterThan(0);
  });

  test('the message keeps the driver words once, even when printed on both streams', () => {
    const failure = classifySmiFailure(DRIVER, DRIVER, 9);
    expect(failure.message).toBe(DRIVER.trim());
    expect(isNodeFailure(failure.kind)).toBe(true);
  });

  test('an empty failure says so', () => {
    expect(classifySmiFailure('', '', 255).message).toBe('nvidia-smi exited with code 255 and printed nothing');
  });
});

describe('parseHandleErrors', () => {
  test.each([
    ['Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost. Reboot the system to recover this GPU', '0:02:00.0', true],
    ['Unable to determine the device handle for GPU 0000:02:00.0: GPU is lost.  Reboot the system to recover this GPU', '0:02:00.0', true],
    ['Unable to determine the device handle for GPU 0000:0B:00.0: Unknown Error', '0:0B:00.0', false],
    ['Unable to determine the device handle for GPU0000:65:00.0: Unknown Error', '0:65:00.0', false],
    ['Unable to detect the device handle for GPU0000:B1:00.0: Unknown Error', '0:B1:00.0', false],
  ])('%j', (line, busId, lost) => {
    expect(parseHandleErrors(`some noise\n${line}\n`)).toEqual([expect.objectContaining({ busId, lost, line })]);
  });
});
