import { Registry, collectDefaultMetrics } from 'prom-client';
import { type ClusterMetricSources, registerClusterMetrics } from './cluster-metrics.js';

/** Prefix of the coordinator process's own metrics (CPU, memory, event loop, GC). */
export const PROCESS_METRIC_PREFIX = 'nsml_coordinator_';

/**
 * A registry of its own (never prom-client's global one, so that several coordinators in one
 * process do not mix): the process metrics, and the cluster gauges computed at scrape time.
 */
export function createMetricsRegistry(sources: ClusterMetricSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PROCESS_METRIC_PREFIX });
  registerClusterMetrics(registry, sources);
  return registry;
}
