import { appendFileSync } from 'node:fs';
import type { BridgeEvent, CommandResult, MetricBatch } from '../bridge/protocol.js';

/** A number as the bridge writes it: NaN and ±Infinity as strings. */
function wireNumber(v: number): number | string {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function wireValues(values: Record<string, number>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(values)) out[k] = wireNumber(v);
  return out;
}

/** The SDK line for a message that reached the agent over the socket (an SDK without a journal). */
export function journalLine(message: { type: 'metrics'; batch: MetricBatch } | { type: 'event'; event: BridgeEvent } | { type: 'result'; result: CommandResult }): string {
  if (message.type === 'metrics') {
    const records = message.batch.records.map((r) => ({ ts_ms: r.tsMs, step: wireNumber(r.step), values: wireValues(r.values), summary: r.summary }));
    return JSON.stringify({ type: 'metrics', records, dropped: message.batch.dropped });
  }
  if (message.type === 'event') {
    const { tsMs, ...rest } = message.event;
    return JSON.stringify({ type: 'event', ts_ms: tsMs, ...rest, value: jsonSafe(rest.value), old: jsonSafe(rest.old) });
  }
  return JSON.stringify({ type: 'result', ...message.result, value: jsonSafe(message.result.value) });
}

function jsonSafe(v: unknown): unknown {
  return typeof v === 'number' ? wireNumber(v) : v;
}

/**
 * Appends one entry to a rank's telemetry journal, the way the SDK does: `\n{json}\n` in one
 * append, so that a line cut short by an earlier failed write damages only itself. Throws the
 * file system's error (ENOSPC: the caller counts what it could not keep).
 */
export function appendJournal(path: string, line: string): void {
  appendFileSync(path, `\n${line}\n`, { mode: 0o640 });
}
