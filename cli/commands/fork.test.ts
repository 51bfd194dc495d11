import { describe, expect, it } from 'vitest';
import type { Session__Output } from '../../common/proto/types.js';
import { forkRequestOf } from './fork.js';

const parent = {
  name: 'alice/movie/3', dataset: 'movie', datasets: ['movie@2'], gpus: 2, gpusPerNode: 0, cpus: 4, memoryMib: 8192,
  entry: 'main.py', args: ['--lr', '0.1', '--pause', '1', '--iteration', '2'], workspace: 'w'.repeat(64), timeLimitS: '3600',
} as unknown as Session__Output;

describe('forkRequestOf', () => {
  it("takes the parent's code, datasets, resources and arguments (without its --pause/--iteration)", () => {
    expect(forkRequestOf(parent, {}, 'fork')).toMatchObject({
      dataset: 'movie', datasets: ['movie@2'], gpus: 2, cpus: 4, memoryMib: 8192, entry: 'main.py', args: ['--lr', '0.1'],
      workspace: parent.workspace, timeLimitS: 3600, parent: 'alice/movie/3', kind: 'fork', checkpoint: '', memo: 'fork of alice/movie/3',
      python: '', image: '', shmSizeMib: 0, // empty: the coordinator keeps the parent's
    });
  });

  it.each([
    [{ gpus: '1', cpus: '8', memory: '16G' }, { gpus: 1, cpus: 8, memoryMib: 16384 }],
    [{ args: '--lr 0.01 --epochs 1' }, { args: ['--lr', '0.01', '--epochs', '1'] }],
    [{ checkpoint: '1', memo: 'try' }, { checkpoint: '1', memo: 'try' }],
    [{ python: '3.11', image: 'docker.io/pytorch/pytorch:2.3.0', 'shm-size': '8G' }, { python: '3.11', image: 'docker.io/pytorch/pytorch:2.3.0', shmSizeMib: 8192 }],
    [{ time: '2h' }, { timeLimitS: 7200 }],
  ])('puts flags %j over the parent\'s settings', (values, expected) => {
    expect(forkRequestOf(parent, values, 'fork')).toMatchObject(expected);
  });

  it.each([
    [{ python: 'three' }, /--python takes a version such as 3\.11/],
    [{ image: 'no spaces allowed' }, /--image takes an image reference/],
    [{ checkpoint: '../x' }, /checkpoint/i],
  ])('refuses %j', (values, message) => {
    expect(() => forkRequestOf(parent, values, 'fork')).toThrow(message);
  });
});
