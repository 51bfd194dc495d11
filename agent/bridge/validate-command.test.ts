import { describe, expect, it } from 'vitest';
import { isNsmlError } from '../../common/errors.js';
import type { BridgeCommand } from './protocol.js';
import { parseControlWords, validateCommand } from './validate-command.js';

describe('parseControlWords', () => {
  it.each([
    [['set', 'lr=0.01'], { name: 'set', args: { values: { lr: '0.01' } } }],
    [['set', 'lr=0.01', 'tag=a=b'], { name: 'set', args: { values: { lr: '0.01', tag: 'a=b' } } }],
    [['get', 'loss'], { name: 'get', args: { name: 'loss' } }],
    [['save', 'best'], { name: 'save', args: { name: 'best' } }],
    [['load', '3'], { name: 'load', args: { name: '3' } }],
    [['load', '3', '--session', 'bob/mnist/2'], { name: 'load', args: { name: '3', session: 'bob/mnist/2' } }],
    [['load', '--session', 'bob/mnist/2', '3'], { name: 'load', args: { name: '3', session: 'bob/mnist/2' } }],
    [['call', 'evaluate'], { name: 'call', args: { name: 'evaluate' } }],
    [['call', 'scale', '[2, 3]'], { name: 'call', args: { name: 'scale', args: [2, 3] } }],
    [['stop'], { name: 'stop', args: {} }],
  ])('%j', (words, expected) => {
    expect(parseControlWords(words)).toEqual(expected);
  });

  it.each([
    [[], /unknown control command ""/],
    [['launch'], /unknown control command "launch"/],
    [['set'], /set needs K=V/],
    [['set', 'lr'], /"lr" is not K=V/],
    [['set', '=1'], /is not K=V/],
    [['get'], /get takes one name/],
    [['load', '3', '--session'], /--session needs/],
    [['call', 'f', '{bad'], /must be JSON/],
    [['stop', 'now'], /stop takes no arguments/],
  ])('refuses %j', (words, message) => {
    expect(() => parseControlWords(words)).toThrow(message);
  });
});

describe('validateCommand', () => {
  const ok: BridgeCommand = { id: 'c-1', name: 'set', args: { values: { lr: '0.1' } } };

  it('passes a valid command through and fills missing args', () => {
    expect(validateCommand(ok)).toEqual(ok);
    expect(validateCommand({ id: 'c-2', name: 'stop', args: undefined as unknown as Record<string, unknown> })).toEqual({ id: 'c-2', name: 'stop', args: {} });
  });

  it.each([
    ['an empty id', { ...ok, id: '' }, /command id/],
    ['a long id', { ...ok, id: 'x'.repeat(201) }, /command id/],
    ['an unknown name', { ...ok, name: 'rm' }, /unknown command "rm"/],
    ['array args', { ...ok, args: [] }, /must be an object/],
    ['set without values', { ...ok, args: {} }, /set needs values/],
    ['set with a number', { ...ok, args: { values: { lr: 0.1 } } }, /texts/],
    ['get without a name', { id: 'c', name: 'get', args: {} }, /get needs a name/],
    ['load of a bad name', { id: 'c', name: 'load', args: { name: 'a/b' } }, /invalid checkpoint name/],
    ['load from a bad session', { id: 'c', name: 'load', args: { name: 'a', session: 'x' } }, /invalid session name/],
  ])('refuses %s', (_name, command, message) => {
    let error: unknown;
    try {
      validateCommand(command as BridgeCommand);
    } catch (err) {
      error = err;
    }
    expect(isNsmlError(error, 'NSML_E_INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses args over 1 MiB', () => {
    const big = { id: 'c', name: 'call', args: { name: 'f', args: 'x'.repeat(1024 * 1024) } } as BridgeCommand;
    expect(() => validateCommand(big)).toThrow(/limit is 1048576/);
  });
});
