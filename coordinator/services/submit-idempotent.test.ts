import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Session__Output, SubmitRequest } from '../../common/proto/types.js';
import { FakeAgent } from '../../test/harness/fake-agent.js';
import { errorCodeOf, startTestCoordinator, unaryCall, uploadWorkspace, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator;
let workspace: string;

beforeEach(async () => {
  t = await startTestCoordinator();
  workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
});
afterEach(async () => {
  await t.cleanup();
});

function submit(req: SubmitRequest, user = 'alice'): Promise<Session__Output> {
  const c = t.clients.sessions;
  return unaryCall(c, c.Submit, { entry: 'main.py', workspace, ...req }, user);
}

async function list(user = 'alice'): Promise<string[]> {
  const c = t.clients.sessions;
  return (await unaryCall(c, c.List, { all: true, limit: 1000 }, user)).sessions.map((s) => s.name);
}

describe('SessionService.Submit with a request id', () => {
  it('answers a repeated request id with the session the first call created', async () => {
    const first = await submit({ requestId: 'r1' });
    const again = await submit({ requestId: 'r1' });
    const other = await submit({ requestId: 'r2' });
    expect(again.name).toBe(first.name);
    expect(other.name).not.toBe(first.name);
    expect(await list()).toHaveLength(2);
  });

  it('creates one session for many concurrent calls with the same request id', async () => {
    const names = await Promise.all(Array.from({ length: 20 }, () => submit({ requestId: 'same' }).then((s) => s.name)));
    expect(new Set(names).size).toBe(1);
    expect(await list()).toEqual([names[0]]);
  });

  it('refuses the request id of another request with NSML_E_REQUEST_ID_REUSED', async () => {
    await submit({ requestId: 'r1', memo: 'first' });
    const err = await submit({ requestId: 'r1', memo: 'second' }).catch((e: unknown) => e);
    expect(errorCodeOf(err)).toBe('NSML_E_REQUEST_ID_REUSED');
    expect(await list()).toHaveLength(1);
  });

  it('refuses a malformed request id', async () => {
    expect(errorCodeOf(await submit({ requestId: 'not valid!' }).catch((e: unknown) => e))).toBe('NSML_E_INVALID_ARGUMENT');
  });
});

describe('SessionService.Submit of CPUs and memory', () => {
  it('refuses memory or CPUs that no node has, naming the largest that fits; queues what fits', async () => {
    const agent = new FakeAgent(t.clients.agents, 'node-a');
    agent.register({ gpus: 0 });
    await agent.next((m) => m.registered ?? undefined);
    const memory = (await submit({ memoryMib: 65_536 }).catch((e: unknown) => e)) as Error;
    expect(errorCodeOf(memory)).toBe('NSML_E_UNSATISFIABLE');
    expect(memory.message).toContain('the largest request that fits is 32768 MiB');
    const cpus = (await submit({ cpus: 9 }).catch((e: unknown) => e)) as Error;
    expect(errorCodeOf(cpus)).toBe('NSML_E_UNSATISFIABLE');
    expect(cpus.message).toContain('the largest request that fits is 8 CPUs');
    expect((await submit({ cpus: 8, memoryMib: 32_768 })).state).toBe('queued');
    agent.close();
  });
});
