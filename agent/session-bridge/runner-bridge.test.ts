import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import type { AgentMessage } from '../../common/proto/types.js';
import { SDK_SRC } from '../bridge/test-fixtures/python.js';
import type { StreamLink } from '../connection/connection.js';
import { Runner } from '../runner/runner.js';
import { RunnerFixture, eventually, shippedLines } from '../testing/runner-fixture.js';
import { SessionBridges } from './session-bridges.js';
import { TelemetryShipper } from '../uplink/telemetry-shipper.js';

const SCRIPT = `import os, sys, time
print("socket there" if os.path.exists(os.environ["NSML_AGENT_SOCKET"]) else "socket missing", flush=True)
import nsml
for step in range(int(sys.argv[1])):
    nsml.report(step=step, loss=1.0 / (step + 1))
    time.sleep(0.01)
`;

class Link implements StreamLink {
  readonly sent: AgentMessage[] = [];
  open = true;
  send(m: AgentMessage): boolean {
    this.sent.push(m);
    return true;
  }
  steps(): number[] {
    return this.sent.flatMap((m) => m.metricBatch?.records?.map((r) => Number(r.step)) ?? []);
  }
}

/** The agent's parts that a rank's bridge needs, on a fixture's folder. */
function agentParts(f: RunnerFixture) {
  let runner: Runner | undefined = undefined;
  const telemetry = new TelemetryShipper({ ranks: () => runner?.ranks() ?? [], maxLineBytes: 1 << 22, clock: { now: () => Date.now() }, logger: silentLogger });
  const link = new Link();
  const bridges = new SessionBridges({ telemetry, logger: silentLogger, rankPhase: (key) => runner?.get(key)?.record.phase });
  runner = Runner.open(f.sessionsDir, f.deps({ sdkPath: SDK_SRC, rankServices: bridges }));
  telemetry.registered([], link);
  const timer = setInterval(() => telemetry.pump(), 20);
  const stop = () => {
    clearInterval(timer);
    telemetry.close();
  };
  return { runner, bridges, link, stop };
}

describe('the runner opens each rank’s bridge', () => {
  const fixtures: RunnerFixture[] = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    for (const f of fixtures.splice(0)) f.cleanup();
  });

  it('before the process starts, again for a re-adopted rank, and closes it when the rank ends', async () => {
    const f = new RunnerFixture();
    fixtures.push(f);
    const first = agentParts(f);
    cleanups.push(() => first.bridges.closeAll());
    const rank = first.runner.start(f.spec({ workspace: f.workspace({ 'main.py': SCRIPT }), args: ['400'] }));
    await eventually(() => first.link.steps().length > 10, 'the first metrics');
    expect(shippedLines(rank.dir)[0]?.text).toBe('socket there');
    const socket = rank.dir.socket;

    // The agent goes away (its bridge with it); the script keeps running and writing its journal.
    first.stop();
    await first.runner.detach();
    await first.bridges.closeAll();
    expect(existsSync(socket)).toBe(false);

    const second = agentParts(f);
    cleanups.push(async () => {
      await second.runner.stopAll(0, 'test over');
      await second.bridges.closeAll();
      second.stop();
    });
    await eventually(() => existsSync(socket), 'the re-adopted rank’s socket');
    const [adopted] = second.runner.ranks();
    await adopted!.whenDone();
    expect(adopted!.record.end).toMatchObject({ exitCode: 0 });
    expect(existsSync(socket)).toBe(false);
    await eventually(() => second.link.steps().length > 0 && Math.max(...second.link.steps()) === 399, 'the last step');
    // Without acks, the second agent ships the whole journal again from its start: every step arrives.
    const steps = new Set([...first.link.steps(), ...second.link.steps()]);
    expect(steps.size).toBe(400); // what the script wrote while no agent listened arrived after
  });
});
