import { describe, expect, it } from 'vitest';
import { isNsmlError } from '../../common/errors.js';
import { encodeHelperFrame, HelperFrameDecoder, sizePayload } from './helper-frames.js';

describe('exec helper frames', () => {
  it('round-trips frames split at every byte boundary', () => {
    const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    const stream = Buffer.concat([encodeHelperFrame('o', bytes), encodeHelperFrame('E'), encodeHelperFrame('x', '{"exitCode":0}')]);
    for (let cut = 0; cut <= stream.length; cut += 1) {
      const d = new HelperFrameDecoder();
      const frames = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(frames.map((f) => f.type)).toEqual(['o', 'E', 'x']);
      expect(frames[0]!.payload.equals(bytes)).toBe(true);
      expect(frames[1]!.payload.length).toBe(0);
      expect(frames[2]!.payload.toString()).toBe('{"exitCode":0}');
      expect(d.pendingBytes).toBe(0);
    }
  });

  it.each([
    ['an unknown type', Buffer.from([0x51, 0, 0, 0, 0]), 'NSML_E_INVALID_ARGUMENT'],
    ['an oversized frame', Buffer.from([0x6f, 0xff, 0xff, 0xff, 0xff]), 'NSML_E_TOO_LARGE'],
  ] as const)('refuses %s', (_what, bytes, code) => {
    let caught: unknown;
    try {
      new HelperFrameDecoder().push(bytes);
    } catch (err) {
      caught = err;
    }
    expect(isNsmlError(caught) && caught.code).toBe(code);
  });

  it('packs a terminal size as two big-endian uint16, clamped', () => {
    expect([...sizePayload(40, 120)]).toEqual([0, 40, 0, 120]);
    expect([...sizePayload(-1, 70000)]).toEqual([0, 0, 0xff, 0xff]);
  });
});
