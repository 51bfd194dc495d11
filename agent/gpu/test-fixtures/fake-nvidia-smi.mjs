#!/usr/bin/env node
// A stand-in for nvidia-smi that plays recorded outputs and failure modes, for process-level
// tests and benchmarks on machines without a GPU. Usage: fake-nvidia-smi.mjs SCENARIO.json ARGS...
// The scenario is read on every run, so a test may rewrite it between calls. Keys:
//   all            behaviour for every command (e.g. the driver is not loaded)
//   xml            behaviour of `-q -x`;   xmlByIndex: { "N": behaviour } for `-q -x -i N`
//   list           behaviour of `-L`
//   gpus           rows for --query-gpu: [{ "index": "0", "uuid": "GPU-…", "utilization.gpu": "5", … }]
//   invalidFields  query fields this "driver" rejects (exit 2, as real nvidia-smi does)
//   queryGpu       behaviour overriding --query-gpu (hang, exit codes)
//   loop           for -lms: { "dieAfterRounds": N, "stallAfterRounds": N, "exit": CODE, "stderr": TEXT }
//   computeApps    rows for --query-compute-apps;  computeAppsBehavior overrides it
//   log            a file to which each invocation's arguments are appended (one line)
// A behaviour is { stdout, stdoutFile, stderr, exit, hang, delayMs }.
import { appendFileSync, readFileSync } from 'node:fs';

const [scenarioPath, ...args] = process.argv.slice(2);
const scenario = JSON.parse(readFileSync(scenarioPath, 'utf8'));
if (scenario.log) appendFileSync(scenario.log, args.join(' ') + '\n');

function play(behaviour) {
  const b = behaviour ?? {};
  const finish = () => {
    if (b.hang) {
      process.on('SIGTERM', () => {});
      setInterval(() => {}, 1 << 30);
      return;
    }
    if (b.stdoutFile) process.stdout.write(readFileSync(b.stdoutFile));
    if (b.stdout) process.stdout.write(b.stdout);
    if (b.stderr) process.stderr.write(b.stderr);
    process.exitCode = b.exit ?? 0;
  };
  if (b.delayMs) setTimeout(finish, b.delayMs);
  else finish();
}

function option(name) {
  const eq = args.find((a) => a.startsWith(`${name}=`));
  if (eq) return eq.slice(name.length + 1);
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function rowsFor(fields, rows) {
  return rows.map((row) => fields.map((f) => row[f] ?? '[N/A]').join(', ')).join('\n') + (rows.length ? '\n' : '');
}

function query(fieldList, rows, override) {
  if (override) return play(override);
  const fields = fieldList.split(',');
  const bad = fields.find((f) => (scenario.invalidFields ?? []).includes(f));
  if (bad) return play({ stdout: `Field "${bad}" is not a valid field to query.\n\n`, exit: 2 });
  const loopMs = Number(option('-lms') ?? option('--loop-ms') ?? 0);
  if (!loopMs) return play({ stdout: rowsFor(fields, rows) });
  loop(fields, rows, loopMs);
}

function loop(fields, rows, ms) {
  const spec = scenario.loop ?? {};
  let round = 0;
  const tick = () => {
    round++;
    if (spec.dieAfterRounds && round > spec.dieAfterRounds) {
      if (spec.stderr) process.stderr.write(spec.stderr);
      process.exit(spec.exit ?? 1);
    }
    if (spec.stallAfterRounds && round > spec.stallAfterRounds) return;
    process.stdout.write(rowsFor(fields, rows));
  };
  process.on('SIGTERM', () => process.exit(0));
  tick();
  setInterval(tick, ms);
}

if (scenario.all) play(scenario.all);
else if (args.includes('-q') && args.includes('-x')) {
  const index = option('-i');
  play(index !== undefined && scenario.xmlByIndex?.[index] ? scenario.xmlByIndex[index] : scenario.xml);
} else if (args.includes('-L')) play(scenario.list);
else if (option('--query-gpu')) query(option('--query-gpu'), scenario.gpus ?? [], scenario.queryGpu);
else if (option('--query-compute-apps')) query(option('--query-compute-apps'), scenario.computeApps ?? [], scenario.computeAppsBehavior);
else play({ stdout: "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n", exit: 2 });
