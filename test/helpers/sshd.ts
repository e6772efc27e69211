/** A real OpenSSH server for tests (src/lab/sshd.ts) in a temp folder removed by cleanupTempDirs. */
import { startLabSshd, type LabSshd } from '../../src/lab/sshd.ts';
import { tempDir } from './cli.ts';

export type Sshd = LabSshd;

export async function startSshd(): Promise<Sshd> {
  return startLabSshd(await tempDir('ltc-sshd-'));
}
