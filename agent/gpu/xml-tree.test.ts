import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseSmiXml } from './nvidia-smi-xml.js';
import { fixture } from './test-fixtures/fake-smi.js';
import { at, parseXml, textAt } from './xml-tree.js';

describe('parseXml', () => {
  test.each([
    ['<a><b>1</b><b>2</b></a>', 'b', '1'],
    ['<a><b/><c>x</c></a>', 'c', 'x'],
    ['<?xml version="1.0"?><!-- c --><a><b>&lt;&amp;&#65;&#x42;</b></a>', 'b', '<&AB'],
    ['<a><b><![CDATA[<raw>]]></b></a>', 'b', '<raw>'],
    ['<!DOCTYPE a [ <!ENTITY e "boom"> ]><a><b>&e;</b></a>', 'b', '&e;'],
    ['<a><b>ok</c></b></a>', 'b', 'ok'],
    ['<a><b>unterminated', 'b', 'unterminated'],
  ])('%j: %s = %j', (source, path, expected) => {
    expect(textAt(parseXml(source), path)).toBe(expected);
  });

  test('attributes and missing paths', () => {
    const root = parseXml(`<log><gpu id="00000000:01:00.0" x='y'><uuid>U</uuid></gpu></log>`);
    expect(at(root, 'gpu')?.attrs).toEqual({ id: '00000000:01:00.0', x: 'y' });
    expect(at(root, 'gpu/nope')).toBeUndefined();
    expect(parseXml('no markup at all')).toBeUndefined();
  });

  test('a hostile document is read without expanding entities, and bad numbers stay absent', () => {
    const report = parseSmiXml(readFileSync(fixture('hostile.xml'), 'utf8'))!;
    const gpu = report.gpus[0]!;
    expect(gpu.name).toBe('Tesla & T4 &xxe;&a;');
    expect(gpu.uuid).toBe('GPU-eeeeeeee-0000-0000-0000-000000000000');
    expect(gpu.memoryTotalMib).toBe(15360);
    expect(gpu.memoryUsedMib).toBeUndefined();
    expect(gpu.utilizationPct).toBeUndefined();
    expect(gpu.temperatureC).toBeUndefined();
    expect(gpu.processes).toEqual([{ pid: 12, name: 'a', type: '', usedMemoryMib: 3, gpuInstanceId: undefined, computeInstanceId: undefined }]);
  });
});
