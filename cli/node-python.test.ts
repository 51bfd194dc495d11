import { describe, expect, it } from 'vitest';
import type { Node__Output } from '../common/proto/types.js';
import { nodePythons } from './node-python.js';

function node(pythons: string[], containerRuntime = ''): Node__Output {
  return { inventory: { pythons, containerRuntime } } as unknown as Node__Output;
}

describe('nodePythons', () => {
  it.each([
    [[], '', '-'],
    [['3.11.7'], '', '3.11'],
    [['3.11.7', '3.12.1', '3.11.2'], '', '3.11,3.12'],
    [['3.10.4'], 'podman', '3.10 +img(podman)'],
    [[], 'docker', '- +img(docker)'],
  ])('%j with runtime %j reads %j', (pythons, runtime, want) => {
    expect(nodePythons(node(pythons, runtime))).toBe(want);
  });
});
