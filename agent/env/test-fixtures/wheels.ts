import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAKE_WHEEL = fileURLToPath(new URL('./make-wheel.py', import.meta.url));

/**
 * Builds a minimal wheel of package `name` into `dir` (no index, no network); returns its path.
 * With `source`, the package holds that folder's files instead of a one-line `__init__.py`.
 */
export function makeWheel(dir: string, name: string, version = '0.1', source?: string): string {
  return execFileSync('python3', [MAKE_WHEEL, dir, name, version, ...(source ? [source] : [])], { encoding: 'utf8' }).trim();
}

/** A requirements.txt that installs `names` from `dir` only. */
export function localRequirements(dir: string, names: string[]): string {
  return ['--no-index', `--find-links ${dir}`, ...names, ''].join('\n');
}
