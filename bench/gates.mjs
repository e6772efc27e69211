// `ltc gates run` of three gates that each `sleep 1` (parallel: true), at the DEFAULT job count,
// as a whole process, against a bash floor doing the same work: `git ls-remote` of the tag, a
// fresh work tree from a local mirror (git archive | tar), and the three sleeps through
// `xargs -P <CPUs>`. A sequential config (one gate at a time) against `sleep 1` three times in a
// row. Interleaved; the mirror is warm (made before). Goal: none in issue 17 (shown for the gap).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LTC, ROOT, emit, interleave, timeProcess } from './lib.mjs';

const RC = 'rc-2026-03-01';
const { generateDemoApp } = await import(join(ROOT, 'dist', 'src', 'demo', 'generate-app.js'));
const work = mkdtempSync(join(tmpdir(), 'ltc-bench-gates-'));
try {
  const app = await generateDemoApp({ dir: join(work, 'app') });
  const gates = (parallel) => ['one', 'two', 'three'].map((name) => `  - { name: ${name}, run: [sleep, '1'], parallel: ${parallel} }`).join('\n');
  const ops = (name, parallel) => {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'ltc.config.yaml'), `version: 1\napp:\n  repo: ${JSON.stringify(app.repoDir)}\ngates:\n${gates(parallel)}\n`);
    return dir;
  };
  const dirs = { parallel: ops('parallel', true), sequential: ops('sequential', false) };
  const env = { ...process.env, NO_COLOR: '1', CI: 'true' };
  delete env.LTC_CONFIG;
  delete env.LTC_STATE_DIR;
  const mirror = join(work, 'mirror.git');
  spawnSync('git', ['clone', '--quiet', '--mirror', app.repoDir, mirror], { stdio: 'ignore' });
  const jobs = availableParallelism();
  const floor = (parallel) =>
    [
      'set -eu',
      `git ls-remote "${app.repoDir}" "refs/tags/${RC}" > /dev/null`,
      `rm -rf "${work}/wt" && mkdir "${work}/wt"`,
      `git -C "${mirror}" archive "${RC}" | tar -x -C "${work}/wt"`,
      `cd "${work}/wt"`,
      parallel ? `printf '1\\n1\\n1\\n' | xargs -P ${jobs} -n1 sleep` : 'sleep 1; sleep 1; sleep 1',
    ].join('\n');
  const ltc = (dir) => () => timeProcess([process.execPath, LTC, 'gates', 'run', '--rc', RC, '--no-install'], { cwd: dir, env });
  const t = await interleave({
    parallel: ltc(dirs.parallel),
    parallelFloor: () => timeProcess(['bash', '-c', floor(true)], { env }),
    sequential: ltc(dirs.sequential),
    sequentialFloor: () => timeProcess(['bash', '-c', floor(false)], { env }),
  });
  emit('gates', [
    { case: `ltc gates run, 3 parallel gates × sleep 1, default --jobs (${jobs} CPUs)`, ltc: t.parallel, floorName: `bash: ls-remote, archive, xargs -P ${jobs} sleep`, floor: t.parallelFloor },
    { case: 'ltc gates run, 3 sequential gates × sleep 1', ltc: t.sequential, floorName: 'bash: ls-remote, archive, sleep ×3', floor: t.sequentialFloor },
  ]);
} finally {
  rmSync(work, { recursive: true, force: true });
}
