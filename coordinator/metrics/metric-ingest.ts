import type { MetricAck, MetricBatch__Output, MetricEvent__Output, MetricRecord__Output } from '../../common/proto/types.js';
import type { Store } from '../store/types.js';
import type { NewMetricRecord, NewTimelineEvent } from './types.js';

export const MAX_RECORDS_PER_BATCH = 100_000;
export const MAX_KEYS_PER_RECORD = 10_000;
export const MAX_KEY_CHARS = 256;
export const MAX_EVENTS_PER_BATCH = 10_000;
const MAX_EVENT_TEXT = 64 * 1024;
const EVENT_KINDS = new Set(['set', 'save', 'load', 'call', 'stop']);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** How the steps of a rank moved in one stored batch (for scheduling a gang's `set`). */
export interface StepObservation {
  session: string;
  epoch: number;
  rank: number;
  step: number;
  tsMs: number;
}

export interface IngestOutcome {
  ack: MetricAck;
  stored: boolean;
  points: number;
  /** The batch's last record, when it stored one. */
  last: StepObservation | undefined;
}

function cleanRecord(r: MetricRecord__Output): NewMetricRecord | undefined {
  if (!Number.isFinite(r.tsMs) || !Number.isFinite(r.step)) return undefined;
  const values: Record<string, number> = {};
  let n = 0;
  for (const [key, value] of Object.entries(r.values)) {
    if (n >= MAX_KEYS_PER_RECORD) break;
    if (key.length === 0 || key.length > MAX_KEY_CHARS || CONTROL.test(key) || typeof value !== 'number') continue;
    values[key] = value;
    n++;
  }
  return n === 0 ? undefined : { tsMs: r.tsMs, step: r.step, values, summary: r.summary };
}

function cut(text: string): string {
  return text.length > MAX_EVENT_TEXT ? text.slice(0, MAX_EVENT_TEXT) : text;
}

function cleanEvent(e: MetricEvent__Output): NewTimelineEvent | undefined {
  if (!EVENT_KINDS.has(e.kind) || !Number.isFinite(e.tsMs)) return undefined;
  const step = e.step !== undefined && e.step !== null && Number.isFinite(e.step) ? e.step : null;
  return { tsMs: e.tsMs, step, kind: e.kind, name: cut(e.name), valueJson: cut(e.valueJson), oldJson: cut(e.oldJson), sourceSession: cut(e.session) };
}

/** Whether the agent of `nodeId` runs (or ran) that rank of that placement. */
export function rankIsOnNode(store: Store, nodeId: string, session: string, epoch: number, rank: number): boolean {
  const s = store.getSession(session);
  if (!s || epoch < 1 || epoch > s.epoch) return false;
  return store.assignments(session, epoch).some((a) => a.rank === rank && a.nodeId === nodeId);
}

/**
 * Stores one metric batch in one transaction (a repeated seq changes nothing) and returns the
 * ack. A batch for an unknown session, or a rank this node never ran, is dropped but
 * acknowledged, so that the agent does not replay it forever. Earlier placements of a session
 * (before a preemption) keep their metrics.
 */
export function ingestMetricBatch(store: Store, nodeId: string, batch: MetricBatch__Output): IngestOutcome {
  const { session, epoch, rank, seq } = batch;
  const ack: MetricAck = { session, epoch, rank, seq };
  const none = { ack, stored: false, points: 0, last: undefined };
  if (!Number.isSafeInteger(seq) || seq < 1 || !rankIsOnNode(store, nodeId, session, epoch, rank)) return none;
  const records = batch.records.slice(0, MAX_RECORDS_PER_BATCH).map(cleanRecord).filter((r): r is NewMetricRecord => r !== undefined);
  const events = batch.events.slice(0, MAX_EVENTS_PER_BATCH).map(cleanEvent).filter((e): e is NewTimelineEvent => e !== undefined);
  const dropped = Number.isSafeInteger(batch.dropped) && batch.dropped > 0 ? batch.dropped : 0;
  const out = store.metrics.insertBatch({ session, epoch, rank, seq, records, events, dropped });
  const tail = records[records.length - 1];
  const last = out.stored && tail ? { session, epoch, rank, step: tail.step, tsMs: tail.tsMs } : undefined;
  return { ack, stored: out.stored, points: out.points, last };
}
