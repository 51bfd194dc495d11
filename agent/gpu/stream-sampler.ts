/**
 * The usage loop that keeps one `nvidia-smi --query-gpu … -lms N` running. A watchdog kills it
 * when it stops printing; it is restarted with backoff whenever it dies, and a field the driver
 * rejects is dropped from the query.
 */
import { invalidQueryField, parseCsvTable, toUsageRecord } from './nvidia-smi-csv.js';
import { classifySmiFailure } from './smi-failure.js';
import type { SmiStream, SmiStreamSpawner } from './smi-stream.js';
import { Backoff, QueryFields, type SamplerStatus, type UsageSampler, type UsageSamplerOptions } from './usage-sampler.js';

export interface StreamSamplerOptions extends UsageSamplerOptions {
  /** Silence after which the process is considered hung; default max(3 × interval, timeout). */
  stallMs?: number;
  backoff?: Backoff;
}

export function createStreamSampler(spawner: SmiStreamSpawner, options: StreamSamplerOptions): UsageSampler {
  const fields = new QueryFields();
  const now = options.now ?? Date.now;
  const stallMs = options.stallMs ?? Math.max(3 * options.intervalMs, options.timeoutMs);
  const backoff = options.backoff ?? new Backoff();
  const status: SamplerStatus = { strategy: 'stream', state: 'idle', rows: 0, failures: 0, restarts: 0 };
  let stream: SmiStream | undefined;
  let lastOutputAt = 0;
  let noise: string[] = [];
  let watchdog: NodeJS.Timeout | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let stallMessage = '';

  const onLine = (line: string) => {
    lastOutputAt = now();
    if (status.state !== 'running') return;
    const row = line.trim().length > 0 ? parseCsvTable(line, fields.list()).rows[0] : undefined;
    const record = row ? toUsageRecord(row) : undefined;
    if (!record || (record.index === undefined && record.uuid === undefined)) {
      if (line.trim().length > 0) noise = [...noise.slice(-7), line];
      return;
    }
    backoff.reset();
    status.rows++;
    status.lastSampleAtMs = lastOutputAt;
    status.lastError = undefined;
    options.onRecords([record], lastOutputAt);
  };

  const onExit = (exit: { code: number | null; signal: string | null; missing?: boolean; error?: string }) => {
    stream = undefined;
    if (status.state === 'closed') return;
    if (status.state === 'hung') noise = [...noise, stallMessage];
    const text = noise.join('\n');
    const field = invalidQueryField(text);
    if (field && fields.drop(field)) {
      options.onEvent?.({ type: 'field-dropped', field });
      return scheduleRestart(0, `dropped field ${field}`);
    }
    const failure = exit.missing
      ? { kind: 'missing', message: exit.error ?? 'nvidia-smi not found' }
      : classifySmiFailure(text, '', exit.code);
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    const message = `usage sampler exited (${how}): ${failure.message}`;
    status.failures++;
    status.lastError = message;
    options.onEvent?.({ type: 'failed', kind: failure.kind, message });
    scheduleRestart(backoff.next(), message);
  };

  const launch = () => {
    if (status.state === 'closed') return;
    status.state = 'running';
    noise = [];
    lastOutputAt = now();
    try {
      stream = spawner.start(fields.args(options.intervalMs), { onLine, onExit });
    } catch (err) {
      onExit({ code: null, signal: null, error: err instanceof Error ? err.message : String(err) });
    }
  };

  const scheduleRestart = (delayMs: number, why: string) => {
    if (status.state === 'closed') return;
    status.state = 'backoff';
    restartTimer = setTimeout(() => {
      status.restarts++;
      options.onEvent?.({ type: 'restarted', message: why, restarts: status.restarts });
      launch();
    }, delayMs);
    restartTimer.unref();
  };

  const checkStall = () => {
    if (status.state !== 'running' || !stream) return;
    const silentMs = now() - lastOutputAt;
    if (silentMs < stallMs) return;
    // Killed, then restarted only once it has exited: a hung driver cannot pile up processes.
    stallMessage = `nvidia-smi printed nothing for ${silentMs} ms (limit ${stallMs} ms) and was killed`;
    status.state = 'hung';
    status.lastError = stallMessage;
    options.onEvent?.({ type: 'stalled', message: stallMessage });
    stream.kill();
  };

  return {
    start() {
      if (status.state !== 'idle') return;
      watchdog = setInterval(checkStall, Math.max(10, Math.min(options.intervalMs, stallMs / 2)));
      watchdog.unref();
      launch();
    },
    close() {
      status.state = 'closed';
      if (watchdog) clearInterval(watchdog);
      if (restartTimer) clearTimeout(restartTimer);
      stream?.kill();
      stream = undefined;
    },
    getStatus: () => ({ ...status }),
  };
}
