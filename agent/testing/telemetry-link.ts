import { silentLogger } from '../../common/log.js';
import type { CommandResult } from '../bridge/protocol.js';
import type { StreamLink } from '../connection/connection.js';
import type { RankSpec } from '../runner/rank-spec.js';
import { rankKeyString } from '../runner/rank-spec.js';
import type { SessionDir } from '../runner/session-dir.js';
import { TelemetryShipper, type ShippedRank } from '../uplink/telemetry-shipper.js';

/**
 * A telemetry shipper for tests that have a rank folder but no runner: ships the rank's journal
 * to `link` (acknowledging each entry at once, as a coordinator would) every 20 ms until closed.
 */
export function shipJournal(spec: RankSpec, dir: SessionDir, link: StreamLink, own: (key: string, result: CommandResult) => boolean = () => false): { shipper: TelemetryShipper; finish(): void; close(): void } {
  let finished = false;
  const rank: ShippedRank = { key: rankKeyString(spec), spec, dir, get finished() { return finished; } };
  const acking: StreamLink = {
    get open() { return link.open; },
    send: (m) => {
      const ok = link.send(m);
      const seq = Number(m.metricBatch?.seq ?? m.commandResult?.seq ?? 0);
      if (seq > 0) queueMicrotask(() => shipper.ack({ session: spec.session, epoch: spec.epoch, rank: spec.rank, seq }));
      return ok;
    },
  };
  const shipper: TelemetryShipper = new TelemetryShipper({
    ranks: () => [rank], own, maxLineBytes: 4 * 1024 * 1024, clock: { now: () => Date.now() }, logger: silentLogger,
  });
  shipper.registered([], acking);
  const timer = setInterval(() => shipper.pump(), 20);
  return {
    shipper,
    finish: () => { finished = true; },
    close: () => {
      clearInterval(timer);
      shipper.close();
    },
  };
}
