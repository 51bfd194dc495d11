import { EventEmitter } from 'node:events';
import type { SessionRow, StoredLogLine } from './store/types.js';

/**
 * In-process notifications, emitted after the transaction that caused them committed:
 * a session changed state, or new log lines were stored.
 */
export class Hub {
  private readonly sessions = new EventEmitter();
  private readonly logs = new EventEmitter();

  constructor() {
    this.sessions.setMaxListeners(0);
    this.logs.setMaxListeners(0);
  }

  onSession(name: string, listener: (row: SessionRow) => void): () => void {
    this.sessions.on(name, listener);
    return () => this.sessions.off(name, listener);
  }

  emitSession(row: SessionRow): void {
    this.sessions.emit(row.name, row);
  }

  onLogs(name: string, listener: (lines: StoredLogLine[]) => void): () => void {
    this.logs.on(name, listener);
    return () => this.logs.off(name, listener);
  }

  emitLogs(name: string, lines: StoredLogLine[]): void {
    if (lines.length > 0) this.logs.emit(name, lines);
  }
}
