import { describe, expect, it } from 'vitest';
import { parseMemoryMib } from './memory-size.js';

describe('parseMemoryMib', () => {
  it.each([
    ['512M', 512], ['512MiB', 512], ['512mb', 512], ['16G', 16384], ['16GiB', 16384], ['1.5G', 1536],
    ['2T', 2 * 1024 * 1024], [' 8 G ', 8192], ['0.1M', 1], ['0M', 0],
  ])('%s is %d MiB', (text, mib) => {
    expect(parseMemoryMib(text)).toBe(mib);
  });

  it.each(['', '512', 'G', '16X', '-1G', '1e3G', '16 GiBs', '2000T'])('refuses %j with NSML_E_USAGE', (text) => {
    expect(() => parseMemoryMib(text)).toThrow(expect.objectContaining({ code: 'NSML_E_USAGE', message: expect.stringMatching(/--memory must be a size such as 512M/) }));
  });
});
