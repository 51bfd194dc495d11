// The coordinator under load, in its own process so that its CPU is measured apart from the
// load generator. Started by bench/coordinator-agents.ts with an IPC channel.
import { silentLogger } from '../common/log.js';
import { startCoordinator } from '../coordinator/main.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: coordinator-child.js DATA_DIR');

const coordinator = await startCoordinator({ dataDir, port: 0, heartbeatIntervalMs: 1000, logger: silentLogger });
process.send!({ address: coordinator.address });
process.on('message', (m: { kind: string }) => {
  if (m.kind === 'usage') {
    process.send!({ cpu: process.cpuUsage(), rss: process.memoryUsage().rss, status: coordinator.getStatus() });
  } else if (m.kind === 'stop') {
    void coordinator.close().then(() => process.exit(0));
  }
});
