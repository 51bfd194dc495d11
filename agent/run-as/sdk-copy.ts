import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file below `dir` (sorted, relative), skipping caches. */
function filesOf(dir: string, root = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === '__pycache__' || name.endsWith('.pyc')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesOf(path, root));
    else out.push(relative(root, path));
  }
  return out;
}

function makeReadable(dir: string): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) makeReadable(path);
    else chmodSync(path, 0o644);
  }
}

/**
 * The bundled SDK, copied into `<dataDir>/sdk/<content hash>` (root's, readable by everyone), so
 * that sessions running as unprivileged users import it wherever nsml itself is installed (a
 * checkout under a 0700 home, say). A copy is named by its content and never changed, so a
 * session started by an older agent keeps importing what it started with; returns the folder
 * to put on PYTHONPATH.
 */
export function installSdkCopy(sdkPath: string, dataDir: string): string {
  const hash = createHash('sha256');
  const files = filesOf(sdkPath);
  for (const f of files) hash.update(f).update('\0').update(readFileSync(join(sdkPath, f))).update('\0');
  const base = join(dataDir, 'sdk');
  const dest = join(base, hash.digest('hex').slice(0, 16));
  mkdirSync(base, { recursive: true });
  chmodSync(base, 0o755);
  if (existsSync(dest)) return dest;
  const tmp = `${dest}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(sdkPath, tmp, { recursive: true, filter: (src) => !src.includes('__pycache__') && !src.endsWith('.pyc') });
  makeReadable(tmp);
  renameSync(tmp, dest);
  return dest;
}
