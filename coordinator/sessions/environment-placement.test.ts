import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueEntry__Output, Session__Output, SubmitRequest } from '../../common/proto/types.js';
import { FakeAgent } from '../../test/harness/fake-agent.js';
import { startTestCoordinator, unaryCall, uploadWorkspace, type TestCoordinator } from '../../test/harness/test-coordinator.js';

/**
 * A real coordinator (gRPC, SQLite, the scheduling loop) with two scripted agents: `plain`
 * offers only Python 3.10 and, holding fewer GPUs, is where best fit would put a 1-GPU session;
 * `rich` also offers Python 3.11 and a container runtime.
 */
let t: TestCoordinator;
let workspace: string;
let plain: FakeAgent;
let rich: FakeAgent;

beforeEach(async () => {
  t = await startTestCoordinator();
  workspace = await uploadWorkspace(t.clients.blobs, { 'main.py': 'print(1)\n' });
  plain = new FakeAgent(t.clients.agents, 'plain');
  plain.register({ gpus: 2, pythons: ['3.10.12'] });
  await plain.next((m) => m.registered ?? undefined);
  rich = new FakeAgent(t.clients.agents, 'rich');
  rich.register({ gpus: 4, pythons: ['3.10.12', '3.11.7'], containerRuntime: 'podman' });
  await rich.next((m) => m.registered ?? undefined);
});
afterEach(async () => {
  plain.close();
  rich.close();
  await t.cleanup();
});

const c = () => t.clients.sessions;
const submit = (req: SubmitRequest) => unaryCall(c(), c().Submit, { entry: 'main.py', workspace, ...req }) as Promise<Session__Output>;
const why = (name: string) => unaryCall(c(), c().QueueWhy, { name }) as Promise<QueueEntry__Output>;
const startOf = (agent: FakeAgent, name: string) => agent.next((m) => (m.start?.session === name ? m.start : undefined));

async function waitWaiting(name: string): Promise<QueueEntry__Output> {
  for (let i = 0; i < 200; i++) {
    const e = await why(name);
    if (e.reasonKind !== '') return e;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} never got a wait reason`);
}

describe('placement by what a node offers', () => {
  it('a --python 3.11 session lands on the node that offers 3.11.7, not on the best-fit node without it', async () => {
    const s = await submit({ gpus: 1, python: '3.11' });
    const start = await startOf(rich, s.name);
    expect(start).toMatchObject({ session: s.name, python: '3.11' });
    const control = await submit({ gpus: 1 });
    await startOf(plain, control.name);
    expect(plain.received.some((m) => m.start?.session === s.name)).toBe(false);
  });

  it('an --image session lands on the node with a container runtime', async () => {
    const s = await submit({ gpus: 1, image: 'docker.io/library/python:3.11-slim' });
    expect(await startOf(rich, s.name)).toMatchObject({ image: 'docker.io/library/python:3.11-slim' });
  });

  it('while the only 3.11 node is full, a 3.11 session waits (and says why) although the other node is free', async () => {
    const big = await submit({ gpus: 4, python: '3.11' });
    await startOf(rich, big.name);
    const next = await submit({ gpus: 1, python: '3.11' });
    const entry = await waitWaiting(next.name);
    expect(entry).toMatchObject({ state: 'waiting', reasonKind: 'resources' });
    expect(entry.reason).toMatch(/^needs 1 GPU on one node offering python3\.11; 0 GPUs free/);
    expect(plain.received.some((m) => m.start?.session === next.name)).toBe(false);
  });

  it('refuses at submit a request too big for the nodes that offer its Python, though it fits the cluster', async () => {
    const err = await submit({ gpus: 4, gpusPerNode: 2, python: '3.11' }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/NSML_E_UNSATISFIABLE|can never fit/);
    expect((err as Error).message).toContain('python3.11');
    const fits = await submit({ gpus: 4, gpusPerNode: 2 }); // without --python both nodes count: 2 × 2 GPUs
    expect(fits.state).toBe('queued');
  });
});
