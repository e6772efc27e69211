// Real commands as whole processes against `node -e 0`, interleaved in one run, on a deployed demo
// app (bench/fixture.mjs: local target, file secret backend, two releases). Goals: `ltc releases`
// and `ltc secrets get` ≤ 1.3× node -e 0; `deploy --dry-run` and `golive check` are shown without one.
import { spawnSync } from 'node:child_process';
import { LTC, emit, interleave, timeProcess } from './lib.mjs';
import { deployedDemo } from './fixture.mjs';

const fx = await deployedDemo('startup');
try {
  const ltc = (...args) => [process.execPath, LTC, ...args];
  const opts = { cwd: fx.ops, env: fx.env };
  // golive check exits 1 while blocking items lack their sign-off: whatever it exits with the first time, it must keep exiting with.
  const golive = ltc('golive', 'check', '--rc', 'rc-2026-03-01');
  const goliveExit = spawnSync(golive[0], golive.slice(1), { ...opts, stdio: 'ignore' }).status;
  const cases = {
    node: () => timeProcess([process.execPath, '-e', '0']),
    releases: () => timeProcess(ltc('releases'), opts),
    secrets: () => timeProcess(ltc('secrets', 'get', 'LTC_SECRET_KEY'), opts),
    dryRun: () => timeProcess(ltc('deploy', '--rc', 'rc-2026-02-15', '--dry-run'), opts),
    golive: () => timeProcess(golive, { ...opts, expectExit: goliveExit }),
  };
  const t = await interleave(cases);
  const floorName = 'node -e 0';
  emit('startup', [
    { case: 'ltc releases', ltc: t.releases, floorName, floor: t.node, goal: 1.3 },
    { case: 'ltc secrets get LTC_SECRET_KEY (metadata)', ltc: t.secrets, floorName, floor: t.node, goal: 1.3 },
    { case: 'ltc deploy --rc <rc> --dry-run', ltc: t.dryRun, floorName, floor: t.node },
    { case: `ltc golive check --rc <rc> (exit ${goliveExit})`, ltc: t.golive, floorName, floor: t.node },
  ]);
} finally {
  fx.cleanup();
}
