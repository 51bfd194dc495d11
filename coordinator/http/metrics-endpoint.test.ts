import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAgent, fakeGpus } from '../../test/harness/fake-agent.js';
import { type PromSample, parsePromText, sampleValue } from '../../test/harness/prom-text.js';
import { startCoordinator } from '../main.js';
import { compileCoordinatorOptions } from '../options.js';
import { FAST_OPTIONS, startTestCoordinator, type TestCoordinator } from '../../test/harness/test-coordinator.js';

let t: TestCoordinator | undefined;
const agents: FakeAgent[] = [];

afterEach(async () => {
  for (const a of agents.splice(0)) a.close();
  await t?.cleanup();
  t = undefined;
});

const url = (path: string) => `http://127.0.0.1:${t!.coordinator.httpPort!}${path}`;

/** Scrapes until `ready` holds (the agent's heartbeat is handled asynchronously); the last scrape. */
async function scrapeUntil(ready: (s: PromSample[]) => boolean): Promise<PromSample[]> {
  let samples: PromSample[] = [];
  for (let i = 0; i < 100; i++) {
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    samples = parsePromText(await res.text());
    if (ready(samples)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return samples;
}

describe('the coordinator HTTP port', () => {
  it('serves node and GPU gauges from a registered agent on /metrics', async () => {
    t = await startTestCoordinator({ httpPort: 0 });
    expect(t.coordinator.httpPort).toBeGreaterThan(0);
    const agent = new FakeAgent(t.clients.agents, 'gpu-node');
    agents.push(agent);
    agent.register({ gpus: 2 });
    await agent.next((m) => m.registered ?? undefined);
    const [g0, g1] = fakeGpus(2);
    agent.send({ heartbeat: { tsMs: Date.now(), running: [], gpus: [
      { ...g0!, utilizationPct: 42, memoryUsedMib: 1234, temperatureC: 55 },
      { ...g1!, utilizationPct: 0, memoryUsedMib: 0, temperatureC: 40, health: 'quarantined', healthReason: 'Xid 79' },
    ] } });
    const s = await scrapeUntil((x) => sampleValue(x, 'nsml_gpu_utilization_percent', { node: 'gpu-node', gpu: '0' }) !== undefined);
    expect(sampleValue(s, 'nsml_nodes', { state: 'ready' })).toBe(1);
    expect(sampleValue(s, 'nsml_node_gpus', { node: 'gpu-node' })).toBe(2);
    expect(sampleValue(s, 'nsml_node_gpus_allocated', { node: 'gpu-node' })).toBe(0);
    expect(sampleValue(s, 'nsml_node_gpus_unusable', { node: 'gpu-node' })).toBe(1);
    expect(sampleValue(s, 'nsml_gpu_utilization_percent', { node: 'gpu-node', gpu: '0' })).toBe(42);
    expect(sampleValue(s, 'nsml_gpu_memory_used_mib', { node: 'gpu-node', gpu: '0' })).toBe(1234);
    expect(sampleValue(s, 'nsml_gpu_memory_total_mib', { node: 'gpu-node', gpu: '1' })).toBe(16384);
    expect(sampleValue(s, 'nsml_gpu_temperature_celsius', { node: 'gpu-node', gpu: '1' })).toBe(40);
    expect(sampleValue(s, 'nsml_gpu_healthy', { node: 'gpu-node', gpu: '1' })).toBe(0);
    expect(sampleValue(s, 'nsml_node_heartbeat_age_seconds', { node: 'gpu-node' })).toBeGreaterThanOrEqual(0);
    expect(sampleValue(s, 'nsml_queue_sessions')).toBe(0);
    expect(sampleValue(s, 'nsml_coordinator_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('answers /healthz, 404 elsewhere, 405 for anything but GET and HEAD, and closes with the coordinator', async () => {
    t = await startTestCoordinator({ httpPort: 0 });
    const health = await fetch(url('/healthz'));
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);
    const head = await fetch(url('/metrics?x=1'), { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    const missing = await fetch(url('/nope'));
    expect([missing.status, await missing.text()]).toEqual([404, 'no page at /nope; the coordinator serves /metrics and /healthz\n']);
    const post = await fetch(url('/metrics'), { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const before = url('/healthz');
    await t.coordinator.close();
    await expect(fetch(before)).rejects.toThrow();
    await t.restart();
    expect(t.coordinator.httpPort).toBeGreaterThan(0);
  });

  it('refuses to start when its HTTP port is taken, and leaves the first coordinator serving', async () => {
    t = await startTestCoordinator({ httpPort: 0 });
    const taken = t.coordinator.httpPort!;
    const dir = mkdtempSync(join(tmpdir(), 'nsml-http-'));
    try {
      await expect(startCoordinator({ ...FAST_OPTIONS, dataDir: dir, httpPort: taken })).rejects.toMatchObject({
        code: 'NSML_E_CONFIG', message: expect.stringContaining(`cannot serve HTTP on 127.0.0.1:${taken}`),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect((await fetch(url('/healthz'))).status).toBe(200);
  });

  it('has no HTTP server unless a port is given, and refuses a bad one', async () => {
    t = await startTestCoordinator();
    expect(t.coordinator.httpPort).toBeUndefined();
    for (const httpPort of [70_000, -1, 1.5]) {
      expect(() => compileCoordinatorOptions({ dataDir: t!.dir, httpPort })).toThrow(expect.objectContaining({ code: 'NSML_E_CONFIG' }));
    }
    expect(compileCoordinatorOptions({ dataDir: t.dir, httpPort: 0 })).toMatchObject({ httpPort: 0, httpHost: '127.0.0.1' });
  });
});
