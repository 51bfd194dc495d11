/** The usage loop that runs one `nvidia-smi --query-gpu` per sample, each with a timeout. */
import { invalidQueryField, parseQueryGpu } from './nvidia-smi-csv.js';
import { classifySmiFailure } from './smi-failure.js';
import type { SmiRunner } from './smi-runner.js';
import { QueryFields, type SamplerStatus, type UsageSampler, type UsageSamplerOptions } from './usage-sampler.js';

export function createSpawnSampler(runner: SmiRunner, options: UsageSamplerOptions): UsageSampler {
  const fields = new QueryFields();
  const now = options.now ?? Date.now;
  const status: SamplerStatus = { strategy: 'spawn', state: 'idle', rows: 0, failures: 0, restarts: 0 };
  let timer: NodeJS.Timeout | undefined;

  const fail = (kind: string, message: string) => {
    status.failures++;
    status.lastError = message;
    options.onEvent?.({ type: 'failed', kind, message });
  };

  const sampleOnce = async (): Promise<void> => {
    const result = await runner.run(fields.args(), options.timeoutMs);
    if (status.state === 'closed') return;
    if (result.kind !== 'exited') return fail(result.kind, result.message);
    if (result.code !== 0) {
      const field = invalidQueryField(result.stdout + result.stderr);
      if (field && fields.drop(field)) return options.onEvent?.({ type: 'field-dropped', field });
      const failure = classifySmiFailure(result.stdout, result.stderr, result.code);
      return fail(failure.kind, failure.message);
    }
    const records = parseQueryGpu(result.stdout, fields.list());
    const atMs = now();
    status.rows += records.length;
    status.lastSampleAtMs = atMs;
    status.lastError = undefined;
    options.onRecords(records, atMs);
  };

  const loop = async (): Promise<void> => {
    try {
      await sampleOnce();
    } catch (err) {
      fail('internal', err instanceof Error ? err.message : String(err));
    }
    if (status.state === 'closed') return;
    timer = setTimeout(() => void loop(), options.intervalMs);
    timer.unref();
  };

  return {
    start() {
      if (status.state !== 'idle') return;
      status.state = 'running';
      void loop();
    },
    close() {
      status.state = 'closed';
      if (timer) clearTimeout(timer);
    },
    getStatus: () => ({ ...status }),
  };
}
