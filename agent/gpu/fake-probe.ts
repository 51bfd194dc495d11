/** An in-memory GpuProbe for the agent's unit tests: returns the states it is given. */
import type { GpuState, NodeGpuProbe, ProbeStatus } from './types.js';

export interface FakeGpuProbe extends NodeGpuProbe {
  /** Replaces what read() returns from now on. */
  set(state: GpuState): void;
  closed(): boolean;
}

export function createFakeGpuProbe(initial: GpuState = { gpus: [] }): FakeGpuProbe {
  let state = initial;
  let isClosed = false;
  const status = (): ProbeStatus => ({ state: isClosed ? 'closed' : 'running', inventories: 0, inventoryFailures: 0, stuckCalls: 0 });
  const foreignOn = (indices: readonly number[]) =>
    state.gpus
      .filter((g) => indices.includes(g.index ?? -1))
      .flatMap((g) => (g.processes ?? []).filter((p) => !p.session).map((p) => ({ index: g.index ?? -1, uuid: g.uuid ?? '', pid: p.pid ?? 0, name: p.name ?? '', usedMemoryMib: Number(p.usedMemoryMib ?? 0) })));
  return {
    read: async () => structuredClone(state),
    refresh: async () => structuredClone(state),
    checkFree: async (indices) => ({ foreign: foreignOn(indices) }),
    getStatus: status,
    close: () => {
      isClosed = true;
    },
    destroy: () => {
      isClosed = true;
    },
    set: (next) => {
      state = next;
    },
    closed: () => isClosed,
  };
}
