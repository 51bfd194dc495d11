/**
 * Which GPUs this agent may use: an explicit `--gpus` list of nvidia-smi indices, else
 * `CUDA_VISIBLE_DEVICES` (indices read as nvidia-smi indices, as with CUDA_DEVICE_ORDER=
 * PCI_BUS_ID; `GPU-…`/`MIG-…` UUIDs or unique prefixes of them), else every GPU.
 */

export interface GpuScope {
  /** Where the scope came from, for messages. */
  source: '--gpus' | 'CUDA_VISIBLE_DEVICES';
  indices: Set<number>;
  ids: string[];
}

/**
 * Reads CUDA_VISIBLE_DEVICES as CUDA does: entries up to the first invalid one; an empty value
 * (or `NoDevFiles`, `-1`) hides every GPU. Undefined when the variable is not set.
 */
export function parseCudaVisibleDevices(value: string | undefined): GpuScope | undefined {
  if (value === undefined) return undefined;
  const scope: GpuScope = { source: 'CUDA_VISIBLE_DEVICES', indices: new Set(), ids: [] };
  for (const raw of value.split(',')) {
    const token = raw.trim();
    if (/^\d+$/.test(token)) scope.indices.add(Number(token));
    else if (/^(GPU|MIG)-[0-9A-Za-z-/]+$/.test(token)) scope.ids.push(token);
    else break;
  }
  return scope;
}

export function scopeFromList(gpus: readonly number[]): GpuScope {
  return { source: '--gpus', indices: new Set(gpus), ids: [] };
}

/** The effective scope: `--gpus` wins over CUDA_VISIBLE_DEVICES. */
export function resolveScope(gpus: readonly number[] | undefined, env: NodeJS.ProcessEnv): GpuScope | undefined {
  if (gpus !== undefined) return scopeFromList(gpus);
  return parseCudaVisibleDevices(env.CUDA_VISIBLE_DEVICES);
}

/** True when a unit (a GPU, or a MIG instance of `parentUuid`) is in scope. */
export function inScope(
  scope: GpuScope | undefined,
  unit: { physicalIndex: number; uuid: string; parentUuid?: string },
): boolean {
  if (!scope) return true;
  if (scope.indices.has(unit.physicalIndex)) return true;
  return scope.ids.some(
    (id) => (unit.uuid !== '' && unit.uuid.startsWith(id)) || (unit.parentUuid !== undefined && unit.parentUuid.startsWith(id)),
  );
}
