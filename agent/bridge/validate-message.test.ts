import { describe, expect, it } from 'vitest';
import { parseSdkLine } from './validate-message.js';

const hello = { type: 'hello', v: 1, sdk: 'nsml-python/0.1.0', pid: 10, rank: 0, session: 'alice/mnist/3' };
const record = { ts_ms: 1, step: 2, values: { 'train/loss': 0.5 } };

describe('parseSdkLine accepts', () => {
  it.each([
    ['hello', hello],
    ['hello without session', { ...hello, session: undefined }],
    ['metrics', { type: 'metrics', records: [record] }],
    ['metrics with summary and dropped', { type: 'metrics', records: [{ ...record, summary: true }], dropped: 3 }],
    ['empty metrics', { type: 'metrics', records: [] }],
    ['event', { type: 'event', ts_ms: 5, step: 3, kind: 'set', name: 'lr', value: 0.01, old: 0.1 }],
    ['event with null step', { type: 'event', ts_ms: 5, step: null, kind: 'stop' }],
    ['ok result', { type: 'result', id: 'c-1', ok: true, step: 4, value: { lr: 0.1 } }],
    ['failed result', { type: 'result', id: 'c-1', ok: false, step: 4, error: { type: 'ValueError', message: 'no' } }],
    ['save', { type: 'save', id: 1, name: '12', dir: '/tmp/x', summary: { acc: 0.5 } }],
    ['load', { type: 'load', id: 2, name: 'best' }],
    ['load from a session', { type: 'load', id: 2, name: 'best', session: 'bob/mnist/2' }],
    ['bye', { type: 'bye', id: 3 }],
    ['unknown fields', { type: 'bye', id: 3, future: [1, 2] }],
  ])('%s', (_name, message) => {
    const parsed = parseSdkLine(JSON.stringify(message));
    expect(parsed.ok, parsed.ok ? '' : parsed.reason).toBe(true);
  });
});

describe('parseSdkLine refuses, with a reason', () => {
  it.each([
    ['not JSON', '{"type":', /not JSON/],
    ['an array', '[1,2]', /JSON object/],
    ['a string', '"hello"', /JSON object/],
    ['no type', '{"v":1}', /unknown message type/],
    ['unknown type', '{"type":"launch"}', /unknown message type "launch"/],
    ['hello without v', JSON.stringify({ ...hello, v: undefined }), /"v" must be a non-negative integer/],
    ['hello with negative pid', JSON.stringify({ ...hello, pid: -1 }), /"pid"/],
    ['hello with a long sdk', JSON.stringify({ ...hello, sdk: 'x'.repeat(101) }), /"sdk" is 101 characters/],
    ['records not an array', '{"type":"metrics","records":{}}', /"records" must be an array/],
    ['a record without step', JSON.stringify({ type: 'metrics', records: [{ ts_ms: 1, values: {} }] }), /"step" must be a number/],
    ['a string value', JSON.stringify({ type: 'metrics', records: [{ ...record, values: { a: 'x' } }] }), /value of "a" must be a number/],
    ['a null value', JSON.stringify({ type: 'metrics', records: [{ ...record, values: { a: null } }] }), /must be a number/],
    ['an empty key', JSON.stringify({ type: 'metrics', records: [{ ...record, values: { '': 1 } }] }), /metric key/],
    ['a huge key', JSON.stringify({ type: 'metrics', records: [{ ...record, values: { ['k'.repeat(257)]: 1 } }] }), /257 characters/],
    ['a control character in a key', JSON.stringify({ type: 'metrics', records: [{ ...record, values: { 'a\nb': 1 } }] }), /metric key/],
    ['too many keys', JSON.stringify({ type: 'metrics', records: [{ ...record, values: Object.fromEntries(Array.from({ length: 10_001 }, (_, i) => [`k${i}`, i])) }] }), /more than 10000 keys/],
    ['dropped negative', JSON.stringify({ type: 'metrics', records: [], dropped: -1 }), /"dropped"/],
    ['event of unknown kind', JSON.stringify({ type: 'event', ts_ms: 1, step: 1, kind: 'boom' }), /"kind" must be one of/],
    ['result without ok', JSON.stringify({ type: 'result', id: 'c', step: 1 }), /"ok" must be a boolean/],
    ['failed result without error', JSON.stringify({ type: 'result', id: 'c', ok: false, step: 1 }), /"error" must be an object/],
    ['save with a relative dir', JSON.stringify({ type: 'save', id: 1, name: 'a', dir: 'x/y' }), /absolute path/],
    ['save with a slash in the name', JSON.stringify({ type: 'save', id: 1, name: 'a/b', dir: '/x' }), /invalid checkpoint name/],
    ['save named ..', JSON.stringify({ type: 'save', id: 1, name: '..', dir: '/x' }), /invalid checkpoint name/],
    ['save with a fractional id', JSON.stringify({ type: 'save', id: 1.5, name: 'a', dir: '/x' }), /"id"/],
    ['load from a malformed session', JSON.stringify({ type: 'load', id: 1, name: 'a', session: '../etc' }), /invalid session name/],
    ['bye without id', '{"type":"bye"}', /"id"/],
  ])('%s', (_name, line, reason) => {
    const parsed = parseSdkLine(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('parseSdkLine converts', () => {
  it('non-finite strings into numbers and marks summaries', () => {
    const line = JSON.stringify({ type: 'metrics', records: [{ ts_ms: 7, step: 1, values: { a: 'NaN', b: 'Infinity', c: '-Infinity', d: 2 }, summary: true }], dropped: 4 });
    const parsed = parseSdkLine(line);
    expect(parsed.ok && parsed.message.type === 'metrics').toBe(true);
    if (!parsed.ok || parsed.message.type !== 'metrics') return;
    const [r] = parsed.message.batch.records;
    expect(r!.values.a).toBeNaN();
    expect(r!.values.b).toBe(Number.POSITIVE_INFINITY);
    expect(r!.values.c).toBe(Number.NEGATIVE_INFINITY);
    expect(r!.values.d).toBe(2);
    expect(r!.summary).toBe(true);
    expect(r!.tsMs).toBe(7);
    expect(parsed.message.batch.dropped).toBe(4);
  });

  it('a save without summary into an empty summary and a load without session into null', () => {
    const save = parseSdkLine(JSON.stringify({ type: 'save', id: 1, name: 'a', dir: '/x' }));
    const load = parseSdkLine(JSON.stringify({ type: 'load', id: 2, name: 'a' }));
    expect(save.ok && save.message).toMatchObject({ type: 'save', summary: {} });
    expect(load.ok && load.message).toMatchObject({ type: 'load', session: null });
  });
});
