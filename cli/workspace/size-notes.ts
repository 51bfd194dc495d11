import { formatBytes } from '../format.js';
import type { PackedWorkspace } from './pack.js';

/** A file this big goes up with the code only with a note. */
export const LARGE_FILE_BYTES = 50 * 1024 * 1024;
/** A workspace this big gets a note even when no single file is large. */
export const LARGE_WORKSPACE_BYTES = 200 * 1024 * 1024;
const LISTED = 5;

/**
 * Notes for stderr before a workspace is uploaded: the largest files above LARGE_FILE_BYTES (at
 * most five) and a too-big total, each with what to do about it. Empty when nothing is large.
 */
export function sizeNotes(packed: Pick<PackedWorkspace, 'entries' | 'totalBytes'>): string[] {
  const large = packed.entries.filter((e) => e.size >= LARGE_FILE_BYTES).sort((a, b) => b.size - a.size);
  const notes = large.slice(0, LISTED).map((e) => `nsml: note: ${e.path} is ${formatBytes(e.size)} and goes up with the code`);
  if (large.length > LISTED) notes.push(`nsml: note: and ${large.length - LISTED} more files of ${formatBytes(LARGE_FILE_BYTES)} or more`);
  if (large.length > 0 || packed.totalBytes >= LARGE_WORKSPACE_BYTES) {
    notes.push(
      `nsml: note: the workspace is ${formatBytes(packed.totalBytes)}; list data and outputs in .nsmlignore ` +
        '(same syntax as .gitignore) and push data once with `nsml dataset push NAME DIR` (mounted with -d NAME)',
    );
  }
  return notes;
}
