import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { groupMembers, signalGroup, waitGroupGone } from '../src/targets/proc.ts';

const started = (script: string) =>
  new Promise<number>((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    // The script says "ready" once its traps are set.
    child.stdout.once('data', () => resolve(child.pid!));
  });

describe('waitGroupGone: the group is gone when no member runs, however it ends', () => {
  it('a process forked into the group after the first scan is still waited for', async () => {
    // On SIGTERM the shell starts a new member (sleep 0.4) and exits: the members known at the
    // start are all gone, the new one is not.
    const pgid = await started('trap "sleep 0.4 & exit 0" TERM; echo ready; while :; do sleep 0.02; done');
    expect(groupMembers(pgid)?.length).toBeGreaterThan(0);
    signalGroup(pgid, 'SIGTERM');
    expect(await waitGroupGone(pgid, 5000)).toBe(true);
    expect(groupMembers(pgid)).toEqual([]);
  });

  it('a member that ignores SIGTERM keeps the group alive until the wait gives up; SIGKILL ends it', async () => {
    const pgid = await started('trap "" TERM; echo ready; while :; do sleep 0.02; done');
    signalGroup(pgid, 'SIGTERM');
    expect(await waitGroupGone(pgid, 300)).toBe(false);
    expect(groupMembers(pgid)?.length).toBeGreaterThan(0);
    signalGroup(pgid, 'SIGKILL');
    expect(await waitGroupGone(pgid, 5000)).toBe(true);
  });
});
