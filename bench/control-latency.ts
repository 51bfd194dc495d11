// `nsml control SESSION set lr=...` to applied, on a warm local cluster (one coordinator, one
// agent, both already running) with a script that reports every 10 ms. Per command:
//  - round trip: the Control RPC as `nsml control` makes it (CoordinatorClient, in this process),
//    from the call to the answer that carries the step at which the script applied it;
//  - on the coordinator: from persisting the command to storing the script's result
//    (created_ms → finished_ms);
//  - also a few full `nsml control` runs, node start-up of the CLI included.
// Target: round trip p50 <= 200 ms. Figures only.
//
//   npm run build && node dist/bench/control-latency.js [--commands 100] [--cli 5] [--report-ms 10]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchCluster, arg, machine, printTable, quantile, sleep, waitUntil, writeFiles } from './core-cluster.js';

const COMMANDS = arg('commands', 100);
const CLI_RUNS = arg('cli', 5);
const REPORT_MS = arg('report-ms', 10);

const SCRIPT = `import sys, time
import nsml
nsml.hparams.update({"lr": 0.1})
step = 0
while True:
    step += 1
    nsml.report(step=step, loss=1.0 / step, lr=nsml.hparams["lr"])
    time.sleep(${REPORT_MS / 1000})
`;

function figures(label: string, xs: number[]): Array<[string, string, string?]> {
  const f = (q: number) => `${quantile(xs, q).toFixed(1)} ms`;
  return [
    [`${label} p50`, f(0.5), label.startsWith('round trip') ? '<= 200 ms' : undefined],
    [`${label} p99`, f(0.99)],
    [`${label} max`, `${Math.max(...xs).toFixed(1)} ms`],
  ];
}

async function main(): Promise<void> {
  const cluster = await BenchCluster.start({ agents: 1 });
  const ws = mkdtempSync(join(tmpdir(), 'nsml-bench-control-'));
  const client = cluster.client();
  try {
    writeFiles(ws, { 'main.py': SCRIPT });
    const run = await cluster.nsml(['run', '--detach', '--json'], ws);
    if (run.exitCode !== 0) throw new Error(`nsml run failed: ${run.stderr}`);
    const name = (JSON.parse(run.stdout) as { name: string }).name;
    await waitUntil(async () => (await client.metrics({ name, key: 'loss', latest: true })).points.length > 0, 'the first metrics', 60_000);

    const roundTrips: number[] = [];
    const onCoordinator: number[] = [];
    const steps: number[] = [];
    for (let i = 0; i < COMMANDS; i++) {
      const began = performance.now();
      const r = await client.control({ name, command: 'set', argsJson: JSON.stringify({ values: { lr: String(0.1 + i / 1000) } }), timeoutMs: 30_000 });
      const ms = performance.now() - began;
      if (r.state !== 'applied') throw new Error(`command ${i} ended ${r.state}: ${r.errorMessage}`);
      roundTrips.push(ms);
      onCoordinator.push(Number(r.finishedMs) - Number(r.createdMs));
      steps.push(Number(r.step));
      await sleep(20 + Math.random() * 30); // commands arrive at random points of the report cycle
    }
    const cli: number[] = [];
    for (let i = 0; i < CLI_RUNS; i++) {
      const r = await cluster.nsml(['control', name, 'set', `lr=${0.5 + i / 100}`], ws);
      if (r.exitCode !== 0) throw new Error(`nsml control failed: ${r.stderr}`);
      cli.push(r.ms);
    }
    await client.control({ name, command: 'stop', argsJson: '{}' });

    console.log(machine());
    console.log(`${COMMANDS} x \`set lr=...\` to a script reporting every ${REPORT_MS} ms (one agent on this machine); applied at steps ${steps[0]} .. ${steps[steps.length - 1]}`);
    printTable([
      ...figures('round trip (Control RPC)', roundTrips),
      ...figures('created -> applied, coordinator clock', onCoordinator),
      ...(cli.length > 0 ? figures(`\`nsml control\` process (${cli.length} runs)`, cli) : []),
    ]);
  } finally {
    client.close();
    await cluster.close();
    rmSync(ws, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
