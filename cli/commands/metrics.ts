import type { MetricPoint__Output, MetricsResponse__Output, TimelineEvent__Output } from '../../common/proto/types.js';
import type { CoordinatorClient } from '../client.js';
import { type Command, printUsage, withClient } from '../command.js';
import { parseFlags } from '../flags.js';
import { formatCount, formatTable } from '../format.js';
import { printJson, type CliIo } from '../io.js';
import { resolveSession } from '../session-ref.js';
import { formatMetricValue, formatTime, jsonNumber } from '../metric-format.js';

const USAGE = `Usage: nsml metrics SESSION [--key KEY] [--last] [--json]

Prints what a session's script reported with nsml.report(): one row per value (step, time,
key, value), and the operator commands it applied (set, save, load, call, stop) where they
happened on its timeline.

Options:
  --key KEY   only this metric, e.g. train/loss
  --last      the latest value of each metric instead
  --json      print {"points", "events", "dropped"}; NaN and infinities as "NaN", "Infinity", "-Infinity"
`;

const FLAGS = {
  key: { type: 'string' },
  last: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** Every stored point (page after page), or the latest of each key, and the timeline. */
async function fetchAll(client: CoordinatorClient, name: string, key: string, latest: boolean, signal: AbortSignal): Promise<MetricsResponse__Output> {
  let page = await client.metrics({ name, key, latest }, signal);
  const points = [...page.points];
  while (page.more) {
    page = await client.metrics({ name, key, fromCursor: page.nextCursor }, signal);
    points.push(...page.points);
  }
  return { ...page, points };
}

function pointJson(p: MetricPoint__Output): Record<string, unknown> {
  return { cursor: p.cursor, rank: p.rank, step: p.step, ts_ms: p.tsMs, key: p.key, value: jsonNumber(p.value), summary: p.summary };
}

function eventJson(e: TimelineEvent__Output): Record<string, unknown> {
  const parse = (t: string) => (t === '' ? undefined : (JSON.parse(t) as unknown));
  return { rank: e.rank, step: e.step ?? null, ts_ms: e.tsMs, kind: e.kind, name: e.name, value: parse(e.valueJson), old: parse(e.oldJson), session: e.session || undefined };
}

function eventText(e: TimelineEvent__Output): string {
  const value = e.valueJson ? e.valueJson : '';
  const old = e.oldJson ? ` (was ${e.oldJson})` : '';
  return e.kind === 'load' && e.session ? `${value || e.name} from ${e.session}` : `${value}${old}`;
}

function printTimeline(io: CliIo, res: MetricsResponse__Output, key: string): void {
  const ranks = new Set(res.points.map((p) => p.rank));
  const withRank = ranks.size > 1;
  const events = key ? res.events.filter((e) => e.name === key) : res.events;
  const rows: Array<{ ts: number; order: number; cells: string[] }> = [];
  for (const p of res.points) {
    rows.push({ ts: Number(p.tsMs), order: 1, cells: [String(p.step), formatTime(Number(p.tsMs)), p.key, formatMetricValue(p.value), ...(withRank ? [String(p.rank)] : [])] });
  }
  for (const e of events) {
    rows.push({ ts: Number(e.tsMs), order: 0, cells: [e.step === undefined || e.step === null ? '-' : String(e.step), formatTime(Number(e.tsMs)), `[${e.kind}] ${e.name}`.trim(), eventText(e) || '-', ...(withRank ? [String(e.rank)] : [])] });
  }
  rows.sort((a, b) => a.ts - b.ts || a.order - b.order);
  io.out(formatTable(['STEP', 'TIME', 'KEY', 'VALUE', ...(withRank ? ['RANK'] : [])], rows.map((r) => r.cells)));
}

function printLatest(io: CliIo, res: MetricsResponse__Output): void {
  const rows = res.points.map((p) => [p.key, String(p.step), formatTime(Number(p.tsMs)), formatMetricValue(p.value)]);
  io.out(formatTable(['KEY', 'STEP', 'TIME', 'VALUE'], rows));
}

export const metricsCommand: Command = {
  usage: USAGE,
  async run(argv, io) {
    const parsed = parseFlags(argv, FLAGS, 'metrics', { min: 1, max: 1 });
    if (!parsed) return printUsage(io, USAGE);
    const key = parsed.values.key ?? '';
    const latest = parsed.values.last ?? false;
    return withClient(io, async (client) => {
      const name = await resolveSession(parsed.positionals[0]!, client, io.signal);
      const res = await fetchAll(client, name, key, latest, io.signal);
      if (parsed.values.json) {
        printJson(io, { session: name, points: res.points.map(pointJson), events: res.events.map(eventJson), dropped: Number(res.dropped) });
        return 0;
      }
      if (res.points.length === 0 && res.events.length === 0) {
        const known = key ? (await fetchAll(client, name, '', true, io.signal)).points.map((p) => p.key) : [];
        const hint = known.length > 0 ? `; the keys it has: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}` : ' (the script reports them with nsml.report())';
        io.err(`${name} has no ${key ? `values of ${key}` : 'metrics'} yet${hint}\n`);
        return 0;
      }
      if (latest) printLatest(io, res);
      else printTimeline(io, res, key);
      if (Number(res.dropped) > 0) io.err(`note: ${formatCount(Number(res.dropped))} records were dropped before they were stored (a buffer was full)\n`);
      return 0;
    });
  },
};
