// `ltc rollback --to <rc>` timed until ltc EXITS, against a shell floor doing the same work: flip
// the `current` symlink (atomic rename), SIGTERM the app's process group and wait until it is
// gone, start `node server.mjs` from the release (own session, log appended, pid file written),
// poll both health endpoints with curl until they answer 200. Interleaved, alternating between
// the two deployed releases; the app runs at the start of every case. Goal: ≤ 2× the floor.
//
// Also: how long after the app listened (its "listening on" log line) each one noticed it —
// ltc's health step ending in the run journal, the floor's exit. Goal: ltc ≤ 25 ms.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LTC, emit, interleave, stats, timeProcess } from './lib.mjs';
import { deployedDemo } from './fixture.mjs';

const fx = await deployedDemo('rollback');
try {
  const releases = Object.fromEntries(readdirSync(join(fx.deployRoot, 'releases')).map((d) => [d.replace(/-\d{8}T.*$/, ''), d]));
  const floor = join(fx.work, 'floor.sh');
  writeFileSync(
    floor,
    `#!/bin/bash
set -eu
root=$1 release=$2 rc=$3 url=$4
ln -sfn "releases/$release" "$root/.current.tmp" && mv -T "$root/.current.tmp" "$root/current"
pid=$(sed -n 's/^{"pid":\\([0-9]*\\).*/\\1/p' "$root/shared/app.pid")
kill -TERM -- "-$pid" 2>/dev/null || true
kill -CONT -- "-$pid" 2>/dev/null || true
# gone: no /proc entry, or a zombie (PID 1 here may never reap it)
while [ -e "/proc/$pid" ] && ! grep -q ') Z ' "/proc/$pid/stat" 2>/dev/null; do sleep 0.005; done
cd "$root/current"
set -a; . "$root/shared/.env"; set +a
export PORT=${fx.port} HOST=127.0.0.1 LTC_ENV=bench LTC_RELEASE="$release" LTC_RC="$rc"
setsid node server.mjs >> "$root/shared/logs/app.log" 2>&1 < /dev/null &
printf '{"pid":%d,"pgid":%d,"release":"%s"}' $! $! "$release" > "$root/shared/app.pid.tmp"
mv "$root/shared/app.pid.tmp" "$root/shared/app.pid"
until curl -sf -o /dev/null "$url/api/health" && curl -sf -o /dev/null "$url/"; do sleep 0.005; done
`,
  );
  // current is rc-2026-03-01 after the fixture; every case moves to the other release.
  let current = 'rc-2026-03-01';
  const next = () => (current = current === 'rc-2026-03-01' ? 'rc-2026-02-15' : 'rc-2026-03-01');
  const appLog = join(fx.deployRoot, 'shared', 'logs', 'app.log');
  const listenedAt = () => {
    const line = readFileSync(appLog, 'utf8').trimEnd().split('\n').findLast((l) => l.includes(' listening on '));
    return Date.parse(line.split(' ')[0]);
  };
  const runsDir = join(fx.ops, '.ltc', 'runs');
  const healthEndAt = () => {
    const newest = readdirSync(runsDir)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => ({ f, at: statSync(join(runsDir, f)).mtimeMs }))
      .sort((a, b) => a.at - b.at)
      .at(-1).f;
    const end = readFileSync(join(runsDir, newest), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.t === 'end' && e.id === 'health');
    return Date.parse(end.at);
  };
  const noticed = { ltc: [], floor: [] };
  const t = await interleave({
    ltc: () => {
      const ms = timeProcess([process.execPath, LTC, 'rollback', '--to', next()], { cwd: fx.ops, env: fx.env });
      noticed.ltc.push(healthEndAt() - listenedAt());
      return ms;
    },
    floor: () => {
      const ms = timeProcess(['bash', floor, fx.deployRoot, releases[next()], current, fx.url], { env: fx.env });
      noticed.floor.push(Date.now() - listenedAt());
      return ms;
    },
  });
  emit('rollback', [
    { case: 'ltc rollback --to <rc> (app running), until ltc exits', ltc: t.ltc, floorName: 'bash: flip symlink, stop group, start, curl until 200', floor: t.floor, goal: 2 },
  ]);
  // The warm-up runs are in the samples too: drop them (the first of each).
  const seen = { ltc: stats(noticed.ltc.slice(1)), floor: stats(noticed.floor.slice(1)) };
  const over = seen.ltc.median > 25;
  console.log(
    `\nhealth noticed green, after the app listened (ms, wall clock): ltc ${seen.ltc.median} (${seen.ltc.min}–${seen.ltc.max}), ` +
      `bash floor (curl every 5 ms, until exit) ${seen.floor.median} (${seen.floor.min}–${seen.floor.max}); goal ltc ≤ 25 ms${over ? ' **over**' : ' ok'}`,
  );
  if (over && !process.env.BENCH_NO_FAIL) process.exitCode = 1;
} finally {
  fx.cleanup();
}
