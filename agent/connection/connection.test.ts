import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../common/clock.js';
import { silentLogger } from '../../common/log.js';
import type { CoordinatorMessage__Output, Registered__Output } from '../../common/proto/types.js';
import { FakeCoordinator } from '../testing/fake-coordinator.js';
import { eventually } from '../testing/runner-fixture.js';
import { Connection, type ConnectionHandler, type StreamLink } from './connection.js';

class RecordingHandler implements ConnectionHandler {
  registers = 0;
  registeredCount = 0;
  disconnects = 0;
  messages: CoordinatorMessage__Output[] = [];
  link: StreamLink | undefined;
  async register() {
    this.registers += 1;
    return { nodeId: 'n1', joinToken: '', inventory: { hostname: 'h' }, running: [] };
  }
  registered(_m: Registered__Output, link: StreamLink) {
    this.registeredCount += 1;
    this.link = link;
  }
  async heartbeat() {
    return { tsMs: Date.now(), gpus: [], running: [] };
  }
  message(m: CoordinatorMessage__Output) {
    this.messages.push(m);
  }
  drain() {}
  disconnected() {
    this.disconnects += 1;
  }
}

describe('Connection', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function connect(address: string, handler: ConnectionHandler, registerTimeoutMs = 5_000): Connection {
    const c = Connection.start({ coordinator: address, registerTimeoutMs, reconnectMinMs: 20, reconnectMaxMs: 100, logger: silentLogger, clock: systemClock }, handler);
    cleanups.push(() => c.destroy());
    return c;
  }

  it('registers, heartbeats, and hands downward messages over', async () => {
    const coord = await FakeCoordinator.start({ heartbeatIntervalMs: 30 });
    cleanups.push(() => coord.stop());
    const h = new RecordingHandler();
    const c = connect(coord.address, h);
    await eventually(() => h.registeredCount === 1, 'registered');
    expect(c.status()).toMatchObject({ state: 'connected', heartbeatIntervalMs: 30 });
    await coord.waitFor(() => coord.messages('heartbeat').length >= 2, 'heartbeats');
    coord.send({ stop: { session: 'a/scratch/1', epoch: 1, graceMs: 5, reason: 'r' } });
    await eventually(() => h.messages.length === 1, 'the stop');
    expect(h.messages[0]?.stop?.reason).toBe('r');
    expect(coord.messages()[0]?.body).toBe('register');
  });

  it('reconnects with backoff after the coordinator goes away and comes back', async () => {
    const coord = await FakeCoordinator.start({ heartbeatIntervalMs: 30 });
    cleanups.push(() => coord.stop());
    const h = new RecordingHandler();
    const c = connect(coord.address, h);
    await eventually(() => h.registeredCount === 1, 'registered');
    await coord.stop();
    await eventually(() => h.disconnects === 1, 'the disconnect');
    expect(h.link?.open).toBe(false);
    expect(h.link?.send({ heartbeat: {} })).toBe(false);
    await eventually(() => c.status().failures >= 2, 'failed attempts while it is down');
    await coord.restart();
    await eventually(() => h.registeredCount === 2, 'registered again');
    expect(c.status().state).toBe('connected');
    expect(coord.messages('register').length).toBe(2);
  });

  it('gives up on a stream whose coordinator never answers register, and tries again', async () => {
    const coord = await FakeCoordinator.start({ silent: true });
    cleanups.push(() => coord.stop());
    const h = new RecordingHandler();
    const c = connect(coord.address, h, 100);
    await eventually(() => h.registers >= 2, 'a second attempt');
    expect(c.status().lastError).toMatch(/did not answer register within 100 ms/);
    expect(h.registeredCount).toBe(0);
  });

  it('stops reconnecting once closed', async () => {
    const h = new RecordingHandler();
    const c = connect('127.0.0.1:1', h);
    await eventually(() => c.status().failures >= 1, 'a failed attempt');
    expect(c.status().lastError).toMatch(/cannot reach the coordinator at 127\.0\.0\.1:1/);
    await c.close();
    const n = h.registers;
    await new Promise((r) => setTimeout(r, 200));
    expect(c.status().state).toBe('closed');
    expect(h.registers).toBe(n);
  });
});
