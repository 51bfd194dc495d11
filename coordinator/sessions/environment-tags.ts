import type { SessionRuntime } from '../../common/session-runtime.js';

/** The tag of a node with a container runtime, and of a session that runs in an image. */
export const CONTAINERS = 'containers';

/**
 * What a node offers as the scheduler's plain tags (`NodeView.offers`): each Python version
 * X.Y.Z as `pythonX`, `pythonX.Y` and `pythonX.Y.Z`, so that a session asking for `3.11` matches
 * a node with 3.11.7 by string equality (the same rule as `versionMatches`), and `containers`
 * when the node has a container runtime.
 */
export function offeredTags(inventory: { pythons?: readonly string[]; containerRuntime?: string }): string[] {
  const tags = new Set<string>();
  for (const version of inventory.pythons ?? []) {
    const parts = version.split('.');
    for (let i = 1; i <= parts.length; i++) tags.add(`python${parts.slice(0, i).join('.')}`);
  }
  if (inventory.containerRuntime) tags.add(CONTAINERS);
  return [...tags];
}

/** What a session needs of its nodes (`PendingSession.needs`): `pythonX.Y` for `--python X.Y`, `containers` for `--image`. */
export function neededTags(runtime: SessionRuntime | undefined): string[] {
  if (!runtime) return [];
  const tags: string[] = [];
  if (runtime.python) tags.push(`python${runtime.python}`);
  if (runtime.image) tags.push(CONTAINERS);
  return tags;
}
