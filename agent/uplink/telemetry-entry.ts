import type { AgentMessage } from '../../common/proto/types.js';
import type { CommandResult } from '../bridge/protocol.js';
import { parseSdkLine } from '../bridge/validate-message.js';
import type { RankKey } from '../runner/rank-spec.js';
import { toWireEvent, toWireRecord, toWireResult } from '../session-bridge/to-wire.js';
import type { JournalEntry } from './journal-reader.js';

/** What one journal entry becomes on the stream, and whether it was damaged. */
export interface EntryMessage {
  message: AgentMessage;
  /** Why the entry could not be used (it travels as an empty batch to keep the numbering). */
  damage: string | undefined;
}

/**
 * One journal entry as the message that carries it up, numbered `entry.seq`: a `metrics` line
 * is a metric batch, an `event` a batch with one event, a `result` a command result. A result
 * that `own` takes (a command the agent itself sent) and an entry that is not a valid SDK line
 * travel as empty batches, so that every number reaches the coordinator and its mark moves on.
 */
export function entryMessage(id: RankKey, entry: JournalEntry, own: (result: CommandResult) => boolean): EntryMessage {
  const seq = entry.seq;
  const empty = (damage?: string): EntryMessage => ({ message: { metricBatch: { ...id, seq, records: [], events: [], dropped: 0 } }, damage });
  if (entry.tooLong) return empty('a journal line over the size limit');
  const parsed = parseSdkLine(entry.text);
  if (!parsed.ok) return empty(parsed.reason);
  const m = parsed.message;
  if (m.type === 'metrics') {
    return { message: { metricBatch: { ...id, seq, records: m.batch.records.map(toWireRecord), events: [], dropped: m.batch.dropped } }, damage: undefined };
  }
  if (m.type === 'event') {
    return { message: { metricBatch: { ...id, seq, records: [], events: [toWireEvent(m.event)], dropped: 0 } }, damage: undefined };
  }
  if (m.type === 'result') {
    if (own(m.result)) return empty();
    return { message: { commandResult: { ...toWireResult(m.result), ...id, seq } }, damage: undefined };
  }
  return empty(`a ${m.type} message does not belong in the telemetry journal`);
}
