import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunnerFixture, shippedLines } from '../testing/runner-fixture.js';
import { SessionDir } from '../runner/session-dir.js';
import { mkdirSync } from 'node:fs';
import { sessionLog } from './session-log.js';

describe('sessionLog', () => {
  let f: RunnerFixture;
  afterEach(() => f.cleanup());

  it('writes lines the log shipper reads as the session output, in order', () => {
    f = new RunnerFixture();
    const dir = new SessionDir(join(f.dir, 'rank'));
    mkdirSync(dir.root);
    const log = sessionLog(dir, () => 1234);
    log.line('nsml: building environment abc (1 requirement)…');
    log.line('Successfully installed x');
    expect(shippedLines(dir).map((l) => [l.text, l.stream, l.tsMs])).toEqual([
      ['nsml: building environment abc (1 requirement)…', 'stdout', 1234],
      ['Successfully installed x', 'stdout', 1234],
    ]);
  });

  it('drops a line it cannot write instead of failing the rank', () => {
    f = new RunnerFixture();
    expect(() => sessionLog(new SessionDir(join(f.dir, 'missing', 'rank'))).line('x')).not.toThrow();
  });
});
