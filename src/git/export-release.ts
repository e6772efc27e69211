/**
 * The files of a commit (no .git) extracted into a release folder: `git archive` piped into
 * `tar -x`, waiting for BOTH processes to end before judging the result (tar may close before
 * git's exit is seen). Used by the deploy targets; the commit is a validated full id.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { CheckFailedError, InterruptedError, UsageError } from '../core/errors.js';
import { processMasker } from '../core/masker.js';
import { firstLines, gitEnv } from './git.js';
import { isFullSha } from './refs.js';

export async function extractCommit(mirror: string, commit: string, dest: string, signal?: AbortSignal): Promise<void> {
  if (!isFullSha(commit)) throw new UsageError(`not a full commit id: ${JSON.stringify(commit)}`);
  if (signal?.aborted) throw new InterruptedError('interrupted before the export');
  await mkdir(dest, { recursive: true });
  const archive = spawn('git', ['-c', 'protocol.ext.allow=never', 'archive', '--format=tar', commit], { cwd: mirror, env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const tar = spawn('tar', ['-x', '-f', '-', '-C', dest], { stdio: ['pipe', 'ignore', 'pipe'] });
  let errors = '';
  archive.stderr.on('data', (b: Buffer) => (errors += b.toString()));
  tar.stderr.on('data', (b: Buffer) => (errors += b.toString()));
  archive.stdout.pipe(tar.stdin);
  tar.stdin.on('error', () => undefined); // EPIPE when tar fails early: reported by its exit code
  const ended = (p: ReturnType<typeof spawn>, name: string) =>
    new Promise<number | null>((resolve, reject) => {
      p.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ENOENT' ? new CheckFailedError(`${name} is not installed`, { hint: `install ${name} (Debian package: ${name})` }) : e),
      );
      p.once('close', (code) => resolve(code));
    });
  const onAbort = () => {
    archive.kill('SIGTERM');
    tar.kill('SIGTERM');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const [a, t] = await Promise.all([ended(archive, 'git'), ended(tar, 'tar')]);
    if (signal?.aborted) throw new InterruptedError('interrupted during the export');
    if (a !== 0 || t !== 0) {
      throw new CheckFailedError(`extracting ${commit.slice(0, 12)} into ${dest} failed (git archive ${a}, tar ${t}): ${firstLines(processMasker.mask(errors))}`);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
