import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvCache } from './env-cache.js';

/** A stand-in for venv + pip at the I/O boundary: a folder with bin/ and `bytes` of payload. */
function fakeBuild(bytes: number, calls: string[] = []) {
  return async (dir: string) => {
    calls.push(dir);
    await new Promise((r) => setTimeout(r, 5));
    mkdirSync(join(dir, 'bin'), { recursive: true });
    writeFileSync(join(dir, 'payload'), Buffer.alloc(bytes));
  };
}

describe('EnvCache', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  function open(budgetBytes = 1 << 20): { cache: EnvCache; dir: string; root: (n: string) => string } {
    const base = mkdtempSync(join(tmpdir(), 'nsml-envcache-'));
    dirs.push(base);
    const root = (n: string) => {
      const p = join(base, 'ranks', n);
      mkdirSync(p, { recursive: true });
      return p;
    };
    return { cache: EnvCache.open({ dir: join(base, 'envs'), budgetBytes }), dir: join(base, 'envs'), root };
  }

  it('builds a key once, publishes it as <dir>/<key>, then serves it cached', async () => {
    const { cache, dir, root } = open();
    const calls: string[] = [];
    const a = await cache.acquire({ useKey: 'r1', root: root('r1'), key: 'aaa', build: fakeBuild(10, calls) });
    const b = await cache.acquire({ useKey: 'r2', root: root('r2'), key: 'aaa', build: fakeBuild(10, calls) });
    expect([a.how, b.how]).toEqual(['built', 'cached']);
    expect(a.path).toBe(join(dir, 'aaa'));
    expect(readlinkSync(join(dir, 'aaa'))).toMatch(/^builds\/aaa-[0-9a-f]{8}$/);
    expect(calls).toHaveLength(1);
  });

  it('runs one build for ranks that ask for the same key at once', async () => {
    const { cache, root } = open();
    const calls: string[] = [];
    const grants = await Promise.all(['r1', 'r2', 'r3'].map((k) => cache.acquire({ useKey: k, root: root(k), key: 'bbb', build: fakeBuild(10, calls) })));
    expect(calls).toHaveLength(1);
    expect(grants.map((g) => g.how).sort()).toEqual(['built', 'shared', 'shared']);
    expect(cache.status().inUse).toEqual(['bbb']);
  });

  it('leaves nothing of a failed build, and builds again next time', async () => {
    const { cache, dir, root } = open();
    const failing = async (d: string) => {
      mkdirSync(d, { recursive: true });
      throw new Error('environment build failed: ERROR: No matching distribution found for nosuchpkg');
    };
    await expect(cache.acquire({ useKey: 'r1', root: root('r1'), key: 'ccc', build: failing })).rejects.toThrow(/nosuchpkg/);
    expect(readdirSync(join(dir, 'builds'))).toEqual([]);
    expect(existsSync(join(dir, 'ccc'))).toBe(false);
    expect(cache.status()).toMatchObject({ envs: 0, inUse: [] });
    expect((await cache.acquire({ useKey: 'r1', root: root('r1'), key: 'ccc', build: fakeBuild(1) })).how).toBe('built');
  });

  it('evicts the least recently used environment past the budget, never one in use', async () => {
    const { cache, dir, root } = open(2500);
    await cache.acquire({ useKey: 'r1', root: root('r1'), key: 'old', build: fakeBuild(1000) });
    await cache.acquire({ useKey: 'r2', root: root('r2'), key: 'busy', build: fakeBuild(1000) });
    cache.release('r1');
    await cache.acquire({ useKey: 'r3', root: root('r3'), key: 'new', build: fakeBuild(1000) });
    expect(cache.held()).toEqual(['busy', 'new']);
    expect(existsSync(join(dir, 'old'))).toBe(false);
    await cache.acquire({ useKey: 'r4', root: root('r4'), key: 'newer', build: fakeBuild(1000) });
    expect(cache.held()).toContain('busy'); // r2 still runs with it
  });

  it('removes half-built folders a killed agent left, at open', async () => {
    const { cache, dir, root } = open();
    await cache.acquire({ useKey: 'r1', root: root('r1'), key: 'kept', build: fakeBuild(1) });
    mkdirSync(join(dir, 'builds', 'half-deadbeef', 'bin'), { recursive: true });
    const again = EnvCache.open({ dir, budgetBytes: 1 << 20 });
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(join(dir, 'builds')).filter((n) => n.startsWith('half'))).toEqual([]);
    expect(again.held()).toEqual(['kept']);
    expect(again.status().inUse).toEqual(['kept']);
  });
});
