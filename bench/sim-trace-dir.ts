import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `<repo>/../shared/traces/itp-elasticflow` (or `$NSML_TRACES_DIR`), found from this file in
 * the source or in dist/; undefined when absent.
 */
export function tracesDir(): string | undefined {
  const fromEnv = process.env['NSML_TRACES_DIR'];
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, '..', 'shared', 'traces', 'itp-elasticflow');
    if (existsSync(join(candidate, 'README.md'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}
