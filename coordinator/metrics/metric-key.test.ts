import { describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import { storedKey } from './metric-key.js';

function storeWith(keys: string[]) {
  const store = openStore(':memory:');
  const row = store.insertSession({
    user: 'alice', dataset: 'scratch', gpus: 0, gpusPerNode: 0, cpus: 1, memoryMib: 0, entry: 'main.py', args: [], env: {},
    memo: '', workspace: '', priority: 0, timeLimitS: 0,
  }, 1000, 'submitted');
  store.updateSession(row.name, { epoch: 1, state: 'running' });
  store.metrics.insertBatch({
    session: row.name, epoch: 1, rank: 0, seq: 1, dropped: 0, events: [],
    records: [{ tsMs: 1000, step: 1, values: Object.fromEntries(keys.map((key, i) => [key, i])), summary: false }],
  });
  return { store, session: row.name };
}

describe('storedKey', () => {
  it.each([
    [['train/loss'], 'train__loss', 'train/loss'],
    [['train/loss'], 'train/loss', 'train/loss'],
    [['a/b/c'], 'a__b__c', 'a/b/c'],
    [['odd__key'], 'odd__key', 'odd__key'],
    [[], 'never__seen', 'never/seen'],
  ])('stored %j, asked %s: %s', (keys, asked, expected) => {
    const { store, session } = storeWith(keys);
    try {
      expect(storedKey(store.metrics, session, asked)).toBe(expected);
    } finally {
      store.close();
    }
  });
});
