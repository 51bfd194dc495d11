import type { CommandResult, MetricEvent, MetricRecord } from '../../common/proto/types.js';
import type { BridgeEvent, CommandResult as BridgeResult, MetricRecord as BridgeRecord } from '../bridge/protocol.js';

/** A command result without where it comes from (the rank's journal entry adds it). */
export type RankResult = Omit<CommandResult, 'session' | 'epoch' | 'rank' | 'seq'>;

/** Milliseconds as an int64 field takes them. */
function wholeMs(ms: number): number {
  return Number.isFinite(ms) ? Math.round(ms) : 0;
}

/** A value as JSON for the wire; '' when absent (or when it has no JSON form). */
export function jsonOf(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/** A record from the script; NaN and ±Infinity stay numbers (doubles on the wire). */
export function toWireRecord(r: BridgeRecord): MetricRecord {
  return { tsMs: wholeMs(r.tsMs), step: r.step, values: r.values, summary: r.summary };
}

export function toWireEvent(e: BridgeEvent): MetricEvent {
  const out: MetricEvent = {
    tsMs: wholeMs(e.tsMs), kind: e.kind, name: e.name ?? '', valueJson: jsonOf(e.value), oldJson: jsonOf(e.old), session: e.session ?? '',
  };
  if (e.step !== null && Number.isFinite(e.step)) out.step = e.step;
  return out;
}

export function toWireResult(r: BridgeResult): RankResult {
  const out: RankResult = {
    id: r.id,
    ok: r.ok,
    valueJson: r.ok ? jsonOf(r.value ?? null) : '',
    errorType: r.error?.type ?? '',
    errorCode: r.error?.code ?? '',
    errorMessage: r.error?.message ?? '',
    traceback: r.error?.traceback ?? '',
  };
  if (r.step !== null && Number.isFinite(r.step)) out.step = r.step;
  return out;
}

/** The agent's own answer to a command it could not hand to the script. */
export function agentFailure(id: string, message: string, code = 'NSML_E_AGENT_UNAVAILABLE'): RankResult {
  return { id, ok: false, valueJson: '', errorType: '', errorCode: code, errorMessage: message, traceback: '' };
}
