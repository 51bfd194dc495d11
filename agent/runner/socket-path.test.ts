import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_SOCKET_PATH_BYTES } from '../bridge/protocol.js';
import { SessionDir } from './session-dir.js';

describe('NSML_AGENT_SOCKET', () => {
  it('stays short whatever the user and dataset names, and differs per rank', () => {
    const sessions = join('/var/lib/nsml-agent', 'sessions');
    const a = SessionDir.forRank(sessions, `${'u'.repeat(64)}/${'d'.repeat(64)}/1`, 1, 0);
    const b = SessionDir.forRank(sessions, `${'u'.repeat(64)}/${'d'.repeat(64)}/1`, 1, 1);
    expect(Buffer.byteLength(a.socket)).toBeLessThanOrEqual(MAX_SOCKET_PATH_BYTES);
    expect(a.socket.startsWith(join(sessions, '.sock') + '/')).toBe(true);
    expect(a.socket).not.toBe(b.socket);
  });

  it('says which --data is short enough when even the short form is too long', () => {
    const deep = new SessionDir(join('/', 'x'.repeat(90), 'sessions', 'a+b+1+e1+r0'));
    expect(() => deep.socket).toThrow(/more than a Unix socket allows \(107\); start the agent with a shorter --data path \(at most 73 bytes\)/);
  });
});
