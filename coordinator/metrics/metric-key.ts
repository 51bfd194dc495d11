import type { MetricTable } from './types.js';

/**
 * The key as stored. The SDK stores `nsml.report(train__loss=...)` as `train/loss` (NSML's
 * spelling of a chart group), so asking for the key as the script wrote it finds those points;
 * points stored under that very spelling (`__` kept) win.
 */
export function storedKey(metrics: Pick<MetricTable, 'latest'>, session: string, key: string): string {
  if (!key.includes('__')) return key;
  return metrics.latest(session, key).length > 0 ? key : key.replaceAll('__', '/');
}
