import { describe, expect, it } from 'vitest';
import { ECHO_MAX_CHARS, echo, escapeText } from './echo.js';

describe('escapeText', () => {
  it.each([
    ['plain', 'alice/mnist/3', 'alice/mnist/3'],
    ['unicode letters stay', 'résumé 学習 🚀', 'résumé 学習 🚀'],
    ['newline, tab, CR', 'a\nb\tc\rd', 'a\\nb\\tc\\rd'],
    ['bell and NUL', 'a\u0007b\u0000', 'a\\u0007b\\u0000'],
    ['escape sequence', '\u001b[31mred', '\\u001b[31mred'],
    ['DEL and C1', 'a\u007fb\u009bc', 'a\\u007fb\\u009bc'],
    ['right-to-left override', 'evil\u202egnp.exe', 'evil\\u202egnp.exe'],
    ['every embedding and override', '\u202a\u202b\u202c\u202d\u202e', '\\u202a\\u202b\\u202c\\u202d\\u202e'],
    ['isolates', '\u2066x\u2067y\u2068z\u2069', '\\u2066x\\u2067y\\u2068z\\u2069'],
    ['direction marks', '\u200e\u200f\u061c', '\\u200e\\u200f\\u061c'],
    ['zero-width and BOM', 'a\u200bb\u200dc\ufeff', 'a\\u200bb\\u200dc\\ufeff'],
    ['line separators', 'a\u2028b\u2029', 'a\\u2028b\\u2029'],
    ['lone surrogates', 'a\ud800b\udc00', 'a\\ud800b\\udc00'],
    ['backslash and quotes stay', 'a\\b"c', 'a\\b"c'],
  ])('%s', (_name, input, expected) => {
    expect(escapeText(input)).toBe(expected);
  });
});

describe('echo', () => {
  it.each([
    ['a short name, quoted', 'alice', '"alice"'],
    ['quotes and backslashes, as JSON', 'a"b\\c', '"a\\"b\\\\c"'],
    ['controls, as JSON would', 'a\u0007', '"a\\u0007"'],
    ['bidi, unlike JSON', 'a\u202eb', '"a\\u202eb"'],
    ['exactly the limit', 'x'.repeat(ECHO_MAX_CHARS), `"${'x'.repeat(ECHO_MAX_CHARS)}"`],
    ['a 10 KB name, cut with its size', 'n'.repeat(10_240), `"${'n'.repeat(ECHO_MAX_CHARS)}…" (10240 bytes)`],
    ['multi-byte, size in bytes', 'é'.repeat(100), `"${'é'.repeat(ECHO_MAX_CHARS)}…" (200 bytes)`],
    ['a number', 42, '"42"'],
  ])('%s', (_name, input, expected) => {
    expect(echo(input)).toBe(expected);
  });

  it('does not split a surrogate pair when cutting', () => {
    const text = 'a'.repeat(ECHO_MAX_CHARS - 1) + '🚀'.repeat(10);
    expect(echo(text)).toBe(`"${'a'.repeat(ECHO_MAX_CHARS - 1)}…" (${Buffer.byteLength(text)} bytes)`);
  });

  it('escapes what is left after cutting', () => {
    expect(echo('\u202e'.repeat(1000), 3)).toBe('"\\u202e\\u202e\\u202e…" (3000 bytes)');
  });
});
