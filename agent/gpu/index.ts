/**
 * The agent's GPU probe (nvidia-smi): inventory, health with quarantine, usage sampling, and the
 * checks the agent runs before starting a session. See README section "GPU probe".
 */
import { compileGpuProbeOptions } from './options.js';
import { startProbe } from './probe.js';
import type { GpuProbeOptions, NodeGpuProbe } from './types.js';

export type { ForeignHolder, GpuProbe, GpuProbeOptions, GpuState, NodeGpuProbe, ProbeEvent, ProbeStatus } from './types.js';
export { compileGpuProbeOptions, nvidiaSmiBinary } from './options.js';
export { IdleTracker, type IdleSession, type IdleTrackerOptions } from './idle-tracker.js';
export { HeartbeatUsage, type HeartbeatUsageOptions } from './heartbeat-usage.js';
export { cudaVisibleDevices } from './units.js';
export { createProcSessionResolver, foreignResolver, type SessionResolver } from './session-owner.js';
export { parseCudaVisibleDevices } from './scope.js';
export { createFakeGpuProbe } from './fake-probe.js';

/**
 * Creates the node's GPU probe and starts its background loops (unless `background: false`).
 * `read()` never throws and never hangs; with no nvidia-smi it answers `{ gpus: [] }`.
 * Throws NSML_E_INVALID_ARGUMENT only for invalid options.
 */
export function createGpuProbe(options: GpuProbeOptions = {}): NodeGpuProbe {
  return startProbe(compileGpuProbeOptions(options), { runner: options.runner, streamSpawner: options.streamSpawner });
}
