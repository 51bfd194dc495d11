import { describe, expect, it } from 'vitest';
import { isAlive, parseProcStat, readProcStat, signalGroup } from './proc.js';

describe('proc', () => {
  it('parses /proc/PID/stat even when the command name holds spaces and parentheses', () => {
    const rest = Array.from({ length: 40 }, (_, i) => String(i + 4)).join(' ');
    const stat = parseProcStat(`1234 (evil ) (name) S 1 4321 ${rest}`);
    expect(stat).toEqual({ state: 'S', pgrp: 4321, startTicks: '20' });
  });

  it('knows this process by pid and start time', () => {
    const stat = readProcStat(process.pid);
    expect(stat).toBeDefined();
    expect(isAlive({ pid: process.pid, startTicks: stat!.startTicks })).toBe(true);
    expect(isAlive({ pid: process.pid, startTicks: 'other' })).toBe(false);
    expect(isAlive({ pid: 0, startTicks: null })).toBe(false);
  });

  it('does not signal a group that does not exist, or group 1', () => {
    expect(signalGroup(2 ** 22 + 12345, 'SIGTERM')).toBe(false);
    expect(signalGroup(1, 'SIGTERM')).toBe(false);
  });
});
