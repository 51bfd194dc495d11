import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { choosePython, discoverPythons, probeInterpreter, pythonsOnPath, type Interpreter } from './interpreters.js';

describe('interpreters', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it("asks a real python3 its executable and version", async () => {
    const i = await probeInterpreter('python3');
    expect(i?.version).toMatch(/^3\.\d+\.\d+$/);
    expect(i?.path).toMatch(/python/);
  });

  it('leaves out what does not run', async () => {
    expect(await probeInterpreter('/nonexistent/python3.99')).toBeUndefined();
  });

  it('finds python3 and python3.X on PATH, one per executable, admin list first', async () => {
    const d = mkdtempSync(join(tmpdir(), 'nsml-py-'));
    dirs.push(d);
    const real = (await probeInterpreter('python3'))!.path;
    symlinkSync(real, join(d, 'python3'));
    symlinkSync(real, join(d, 'python3.99'));
    writeFileSync(join(d, 'python2'), '');
    expect(pythonsOnPath(d).map((p) => p.slice(d.length + 1))).toEqual(['python3', 'python3.99']);
    const found = await discoverPythons({ extra: [real], pathEnv: d });
    expect(found).toHaveLength(1);
    expect(found[0]!.path).toBe(real);
  });

  const py = (version: string): Interpreter => ({ path: `/usr/bin/python${version}`, version });
  it.each([
    ['', '3.11.7'], ['3', '3.11.7'], ['3.11', '3.11.7'], ['3.12', '3.12.1'], ['3.12.1', '3.12.1'],
  ])('--python %j picks %s', (wanted, version) => {
    expect(choosePython([py('3.11.7'), py('3.12.1')], wanted, py('3.11.7')).version).toBe(version);
  });

  it('refuses a version the node lacks, naming what it offers and the agent flag', () => {
    expect(() => choosePython([py('3.11.7')], '3.9', py('3.11.7'))).toThrow(/asks for Python 3\.9 and this node offers 3\.11\.7.*--pythons/);
  });
});
