import { join } from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../runner/session-dir.js';

/** How many command ids a rank remembers. */
const KEPT = 1_000;
export const SEEN_FILE = 'commands-seen.json';

/**
 * The command ids already handed to one rank's script. The coordinator sends a command again
 * after a reconnect when it has no result yet; the script must apply it once. Kept in the rank's
 * folder once it is known, so that a restarted agent remembers.
 */
export class SeenCommands {
  private readonly ids: string[] = [];
  private readonly set = new Set<string>();
  private path: string | undefined;

  /** Loads the ids kept in `rankRoot` and keeps writing them there. */
  attach(rankRoot: string): void {
    this.path = join(rankRoot, SEEN_FILE);
    for (const id of readJsonFile<string[]>(this.path) ?? []) this.remember(id);
    this.persist();
  }

  has(id: string): boolean {
    return this.set.has(id);
  }

  add(id: string): void {
    this.remember(id);
    this.persist();
  }

  private remember(id: string): void {
    if (typeof id !== 'string' || this.set.has(id)) return;
    this.ids.push(id);
    this.set.add(id);
    if (this.ids.length > KEPT) this.set.delete(this.ids.shift()!);
  }

  private persist(): void {
    if (!this.path) return;
    try {
      writeJsonAtomic(this.path, this.ids);
    } catch {
      // the folder is gone (the rank was forgotten): nothing left to protect
    }
  }
}
