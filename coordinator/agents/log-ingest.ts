import type { LogBatch__Output } from '../../common/proto/types.js';
import type { Hub } from '../hub.js';
import type { NewLogLine, Store } from '../store/types.js';

export const MAX_LINES_PER_BATCH = 10_000;
export const MAX_LINE_BYTES = 64 * 1024;
const STREAMS = new Set(['stdout', 'stderr', 'system']);

function cleanLine(l: LogBatch__Output['lines'][number]): NewLogLine | undefined {
  if (!Number.isSafeInteger(l.seq) || l.seq < 1) return undefined;
  const text = l.text.length > MAX_LINE_BYTES ? l.text.slice(0, MAX_LINE_BYTES) + ' [line truncated]' : l.text;
  return { seq: l.seq, tsMs: Number.isSafeInteger(l.tsMs) ? l.tsMs : 0, stream: STREAMS.has(l.stream) ? l.stream : 'stdout', text };
}

/**
 * Stores one batch in one transaction and returns the seq to acknowledge. Lines of a stale
 * epoch, an unknown session or a rank not placed on this node are dropped but acknowledged,
 * so the agent does not replay them forever.
 */
export function ingestLogBatch(store: Store, hub: Hub, nodeId: string, batch: LogBatch__Output): number {
  const lastSeq = batch.lines.reduce((m, l) => Math.max(m, Number.isSafeInteger(l.seq) ? l.seq : 0), 0);
  const s = store.getSession(batch.session);
  if (!s || batch.epoch !== s.epoch) return lastSeq;
  const rank = store.assignments(s.name, s.epoch).find((r) => r.rank === batch.rank);
  if (!rank || rank.nodeId !== nodeId) return lastSeq;
  const lines = batch.lines.slice(0, MAX_LINES_PER_BATCH).map(cleanLine).filter((l): l is NewLogLine => l !== undefined);
  const { inserted, ackSeq } = store.insertLogs(s.name, s.epoch, batch.rank, lines);
  hub.emitLogs(s.name, inserted);
  return ackSeq;
}
