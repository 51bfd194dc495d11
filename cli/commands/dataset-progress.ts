import { formatBytes, formatCount } from '../format.js';
import type { CliIo } from '../io.js';

/** Bytes and files moved so far, shown as a bar on a terminal and as plain lines elsewhere. */
export interface Progress {
  /** `bytes` more were sent; `files` more are complete. */
  add(bytes: number, files?: number): void;
  /** Prints the final state (and ends the bar's line). */
  done(): void;
}

export interface ProgressOptions {
  label: string;
  totalBytes: number;
  totalFiles: number;
  now?: () => number;
  /** A terminal redraws at most this often; default 100 ms. */
  redrawMs?: number;
  /** Plain lines come at most this often; default 2 s. */
  lineMs?: number;
}

const BAR = 24;

function rate(bytes: number, ms: number): string {
  return ms > 0 ? `${formatBytes((bytes * 1000) / ms)}/s` : '-';
}

function line(o: ProgressOptions, bytes: number, files: number, elapsedMs: number, bar: boolean): string {
  const pct = o.totalBytes > 0 ? Math.min(100, Math.floor((bytes / o.totalBytes) * 100)) : 100;
  const filled = Math.round((pct / 100) * BAR);
  const head = bar ? `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ` : '';
  return `${o.label} ${head}${pct}%  ${formatBytes(bytes)} / ${formatBytes(o.totalBytes)}  ${formatCount(files)}/${formatCount(o.totalFiles)} files  ${rate(bytes, elapsedMs)}`;
}

/** A progress display on `io.err`: redrawn in place on a terminal, a line every few seconds otherwise. */
export function createProgress(io: CliIo, o: ProgressOptions): Progress {
  const now = o.now ?? Date.now;
  const tty = io.errIsTty === true;
  const every = tty ? (o.redrawMs ?? 100) : (o.lineMs ?? 2_000);
  const started = now();
  let bytes = 0;
  let files = 0;
  let shownAt = started;
  let width = 0;
  const show = (final: boolean) => {
    const text = line(o, bytes, files, now() - started, tty);
    if (tty) {
      io.err(`\r${text.padEnd(width)}${final ? '\n' : ''}`);
      width = text.length;
    } else {
      io.err(`${text}\n`);
    }
    shownAt = now();
  };
  return {
    add(more, moreFiles = 0) {
      bytes += more;
      files += moreFiles;
      if (now() - shownAt >= every) show(false);
    },
    done() {
      show(true);
    },
  };
}
