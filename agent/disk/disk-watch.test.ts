import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import { SessionDir } from '../runner/session-dir.js';
import { DiskWatch } from './disk-watch.js';
import { deferredWriteCount } from './soft-writes.js';
import { fillDisk } from '../../test/harness/fill-disk.js';

const isRoot = process.getuid?.() === 0;
if (!isRoot) console.warn('agent/disk/disk-watch.test: skipped (mounting a small tmpfs needs root)');


describe.skipIf(!isRoot)('a full data directory (real tmpfs)', () => {
  let dir: string;
  let watch: DiskWatch | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nsml-diskwatch-'));
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  });
  afterEach(async () => {
    watch?.close();
    watch = undefined;
    await execa('umount', ['-l', dir], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a rank file written on a full disk is kept, flags the node full, and is written once there is room', () => {
    watch = new DiskWatch({ dir, minFreeBytes: 0, logger: silentLogger });
    const rank = new SessionDir(join(dir, 'sessions', 'alice+scratch+1+e1+r0'));
    mkdirSync(rank.root, { recursive: true });
    expect(watch.check()).toMatchObject({ full: false, message: '' });
    fillDisk(join(dir, 'filler'));
    expect(rank.writeJson('state.json', { phase: 'exited', end: { exitCode: 0 } })).toBe(false); // no throw
    expect(deferredWriteCount()).toBeGreaterThan(0);
    const full = watch.check();
    expect(full.full).toBe(true);
    expect(full.message).toMatch(/^NSML_E_DISK_FULL: a write in the agent's data directory found no room/);
    expect(watch.check().full).toBe(true); // still full: the write still waits
    rmSync(join(dir, 'filler'));
    expect(watch.check()).toMatchObject({ full: false, message: '' });
    expect(JSON.parse(readFileSync(rank.file('state.json'), 'utf8'))).toEqual({ phase: 'exited', end: { exitCode: 0 } });
    expect(deferredWriteCount()).toBe(0);
  });

  it('free space below the threshold reports full until it is back above', () => {
    watch = new DiskWatch({ dir, minFreeBytes: 256 * 1024, logger: silentLogger });
    expect(watch.check().full).toBe(false);
    fillDisk(join(dir, 'filler'));
    const full = watch.check();
    expect(full).toMatchObject({ full: true, freeMib: 0 });
    expect(full.message).toContain('below --min-free 1 MiB');
    rmSync(join(dir, 'filler'));
    expect(watch.check().full).toBe(false);
  });
});
