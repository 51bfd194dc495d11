import { describe, expect, it } from 'vitest';
import { intFlag, parseFlags } from './flags.js';

const SPEC = {
  args: { type: 'string', short: 'a' },
  gpus: { type: 'string', short: 'g' },
  json: { type: 'boolean' },
  detach: { type: 'boolean', short: 'D' },
} as const;

describe('parseFlags', () => {
  it.each([
    [['-a', '--lr 0.1 --epochs 5'], { args: '--lr 0.1 --epochs 5' }, []],
    [['--args', '-x'], { args: '-x' }, []],
    [['--args=--y'], { args: '--y' }, []],
    [['-g', '2', '--json'], { gpus: '2', json: true }, []],
    [['-g2'], { gpus: '2' }, []],
    [['x', '--json'], { json: true }, ['x']],
    [['--', '--json'], {}, ['--json']],
  ])('%j parses', (argv, values, positionals) => {
    const parsed = parseFlags(argv, SPEC, 'test', { min: 0, max: 1 });
    expect(parsed?.values).toEqual(values);
    expect(parsed?.positionals).toEqual(positionals);
  });

  it.each([[['--help']], [['-h']], [['-g', '1', '--help']]])('%j asks for help', (argv) => {
    expect(parseFlags(argv, SPEC, 'test')).toBeUndefined();
  });

  it('takes --help as a value where a string flag expects one', () => {
    expect(parseFlags(['-a', '--help'], SPEC, 'test')?.values.args).toBe('--help');
  });

  it.each([
    [['--nope'], /^unknown option --nope; see `nsml test --help`$/],
    [['--jsn'], /^unknown option --jsn; did you mean --json\?/],
    [['--gpu', '1'], /^unknown option --gpu; did you mean --gpus\?; see `nsml test --help`$/],
    [['--gpu=1'], /^unknown option --gpu; did you mean --gpus\?/],
    [['--json=1'], /does not take an argument/],
    [['-g'], /argument missing/],
    [['a', 'b'], /unexpected argument "b"/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseFlags(argv, SPEC, 'test', { min: 0, max: 1 })).toThrow(
      expect.objectContaining({ code: 'NSML_E_USAGE', message: expect.stringMatching(message) }),
    );
  });

  it('requires positionals', () => {
    expect(() => parseFlags([], SPEC, 'logs', { min: 1, max: 1 })).toThrow(/missing argument.*nsml logs --help/);
  });
});

describe('intFlag', () => {
  it.each([
    [undefined, 7],
    ['0', 0],
    ['12', 12],
  ])('%j gives %d', (value, n) => expect(intFlag(value, '-g', 7, 0, 100)).toBe(n));
  it.each(['x', '1.5', '-1', '101', ''])('%j is refused', (value) => {
    expect(() => intFlag(value, '-g', 7, 0, 100)).toThrow(expect.objectContaining({ code: 'NSML_E_USAGE' }));
  });
});
