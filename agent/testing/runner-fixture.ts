import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../common/clock.js';
import { sha256 } from '../../common/hashing.js';
import { silentLogger } from '../../common/log.js';
import { encodeManifest, type ManifestEntry } from '../../common/manifest.js';
import { BlobCache } from '../cache/blob-cache.js';
import { MemoryBlobSource } from '../cache/blob-source.js';
import type { RunnerDeps } from '../runner/rank-context.js';
import type { RankSpec } from '../runner/rank-spec.js';
import type { SessionDir } from '../runner/session-dir.js';
import { LogShipper, type ShippedLine } from '../uplink/log-shipper.js';

/** agent/runner/test-fixtures: tiny real programs that the runner tests start. */
export const FIXTURES = fileURLToPath(new URL('../runner/test-fixtures/', import.meta.url));
export const SUPERVISOR = fileURLToPath(new URL('../runner/supervisor.py', import.meta.url));

/** A temp folder with a blob source and the runner's dependencies, for runner tests. */
export class RunnerFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'nsml-agent-'));
  readonly source = new MemoryBlobSource();

  deps(overrides: Partial<RunnerDeps> = {}): RunnerDeps {
    return {
      cache: new BlobCache(join(this.dir, 'blobs'), this.source),
      python: 'python3',
      sdkPath: join(this.dir, 'sdk'),
      supervisorPath: SUPERVISOR,
      gpuDevice: (i) => String(i),
      baseEnv: { PATH: process.env.PATH, HOME: process.env.HOME, NSML_HOME: '/should/not/leak' },
      pollMs: 20,
      logger: silentLogger,
      clock: systemClock,
      ...overrides,
    };
  }

  get sessionsDir(): string {
    return join(this.dir, 'sessions');
  }

  /** Stores files (path → content, or [content, mode]) as blobs and returns the manifest hash. */
  workspace(files: Record<string, string | [string, number]>): string {
    const entries: ManifestEntry[] = Object.entries(files).map(([path, v]) => {
      const [content, mode] = typeof v === 'string' ? [v, 0o644] : v;
      const data = Buffer.from(content);
      const hash = sha256(data);
      this.source.add(hash, data);
      return { path, mode, size: data.length, hash };
    });
    const m = encodeManifest(entries);
    this.source.add(m.hash, m.bytes);
    return m.hash;
  }

  /** A workspace whose main.py is the fixture program `name` (e.g. 'forever.py'). */
  fixture(name: string, extra: Record<string, string> = {}): string {
    return this.workspace({ 'main.py': readFileSync(join(FIXTURES, name), 'utf8'), ...extra });
  }

  spec(overrides: Partial<RankSpec> & { workspace: string }): RankSpec {
    return {
      session: 'alice/scratch/1', epoch: 1, rank: 0, worldSize: 1, localWorldSize: 1, nodeRank: 0,
      gpuIndices: [], entry: 'main.py', args: [], env: {}, masterAddr: '127.0.0.1', masterPort: 29500,
      dataset: '', user: 'alice', ...overrides,
    };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every line of a finished rank's output, as the shipper numbers them. */
export function shippedLines(dir: SessionDir): ShippedLine[] {
  const s = new LogShipper(dir.file('output.log'), { maxLineBytes: 64 * 1024 });
  const out: ShippedLine[] = [];
  for (let b = s.next(10_000, 1 << 24, true); b.length > 0; b = s.next(10_000, 1 << 24, true)) out.push(...b);
  s.close();
  return out;
}

/** Polls `check` until it holds; fails after `timeoutMs` with `what` in the message. */
export async function eventually<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
