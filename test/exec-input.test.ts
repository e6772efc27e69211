import { describe, expect, it } from 'vitest';
import { Masker } from '../src/core/masker.js';
import { execCommand } from '../src/exec/exec.js';
import { git } from '../src/git/git.js';

// A child that ends before reading its stdin (an ssh whose server was just killed) makes the write
// fail with EPIPE; that must come back as the child's exit status, not crash ltc with an unhandled
// 'error' event (seen in the fleet rolling test when sshd died mid-batch).
describe('a command fed input that exits without reading it', () => {
  const input = 'x'.repeat(4 << 20);

  it('execCommand reports its exit status', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await execCommand(['sh', '-c', 'exit 3'], { input }, new Masker());
      expect(r.exitCode).toBe(3);
    }
  });

  it('git reports its failure as an error, not a crash', async () => {
    await expect(git(['hash-object', '--stdin', '--no-such-flag'], { cwd: process.cwd(), input })).rejects.toThrow();
  });
});
