import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { countRequirementLines, readDeclaration } from './declaration.js';

const NAVER_SETUP = `#nsml: floydhub/pytorch:0.3.0-gpu.cuda8cudnn6-py3.17

"""
Copyright 2018 NAVER Corp.
"""

from distutils.core import setup
setup(
    name='nsml movie review',
    version='1.0',
    description='',
    install_requires=[
    ]
)
`;

describe('readDeclaration', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  async function read(files: Record<string, string>) {
    const d = mkdtempSync(join(tmpdir(), 'nsml-decl-'));
    dirs.push(d);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
    return readDeclaration(d, 'python3');
  }

  it.each([
    ['nothing declared', {}, undefined, ''],
    ["NAVER's setup.py: image header, empty install_requires", { 'setup.py': NAVER_SETUP }, undefined, 'floydhub/pytorch:0.3.0-gpu.cuda8cudnn6-py3.17'],
    ['a requirements.txt of comments only', { 'requirements.txt': '# nothing\n\n' }, undefined, ''],
    ['requirements.txt', { 'requirements.txt': 'numpy==1.26\n# c\n--no-index\ntqdm\n' }, { installArgs: ['-r', 'requirements.txt'], count: 2 }, ''],
    ['setup.py install_requires', { 'setup.py': 'from setuptools import setup\nsetup(name="x", install_requires=["numpy", "torch>=2"])\n' }, { installArgs: ['numpy', 'torch>=2'], count: 2 }, ''],
    ['setup.py first, then requirements.txt, then pyproject',
      { 'setup.py': 'import setuptools\nsetuptools.setup(install_requires=("a",))\n', 'requirements.txt': 'b\n', 'pyproject.toml': '[project]\nname = "x"\ndependencies = ["c"]\n' },
      { installArgs: ['a', '-r', 'requirements.txt', 'c'], count: 3 }, ''],
  ])('%s', async (_what, files, requirements, header) => {
    const d = await read(files as Record<string, string>);
    expect(d.header).toBe(header);
    if (requirements === undefined) expect(d.requirements).toBeUndefined();
    else expect(d.requirements).toMatchObject(requirements);
    expect(d.warnings).toEqual([]);
  });

  it('never runs setup.py, and says so when install_requires is not a literal', async () => {
    const d = await read({ 'setup.py': 'import os\nos.system("touch /tmp/nsml-pwned")\nfrom setuptools import setup\nsetup(install_requires=open("r.txt").read().split())\n' });
    expect(d.requirements).toBeUndefined();
    expect(d.warnings).toEqual(["setup.py's install_requires is not a literal list; it is ignored (list the packages in requirements.txt)"]);
  });

  it('warns about a setup.py that does not parse', async () => {
    const d = await read({ 'setup.py': 'setup(\n' });
    expect(d.warnings[0]).toMatch(/setup\.py does not parse/);
  });

  it('keys the same declarations to the same fingerprint and different ones apart', async () => {
    const a = await read({ 'requirements.txt': 'numpy\n' });
    const b = await read({ 'requirements.txt': 'numpy\n' });
    const c = await read({ 'requirements.txt': 'numpy==2\n' });
    expect(a.requirements!.fingerprint).toBe(b.requirements!.fingerprint);
    expect(a.requirements!.fingerprint).not.toBe(c.requirements!.fingerprint);
  });
});

describe('countRequirementLines', () => {
  it.each([
    ['', 0], ['numpy\n', 1], ['# c\n--index-url x\n-e ./pkg\ntorch\n', 2], ['  \n-r other.txt\n', 0],
  ])('%j names %i packages', (text, n) => expect(countRequirementLines(text)).toBe(n));
});
