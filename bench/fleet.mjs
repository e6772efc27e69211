// Fleet deploys over ssh (issue 14): the demo app to 1, 4 and 8 real sshd hosts on loopback with
// `batch: 4`, and fleet rollbacks of 1 and 8 hosts, each against a bash floor doing the minimum
// over plain ssh (git archive | ssh tar -x, npm run build on the host, switch the symlink, stop
// the old app and start the new one, curl until 200), hosts in parallel in groups of 4. The
// 8-host environment sits behind a real HAProxy with its drain; a load generator counts failed
// requests through it during every ltc deploy and rollback of 8 hosts (goal: 0). Goals: time(8)
// ≤ 2 × time(1) for ltc deploy and for ltc rollback. BENCH_FLEET_RUNS sets the rounds (default 5).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { LTC, ROOT, emit, interleave, timeProcess } from './lib.mjs';
import { freePort } from './fixture.mjs';

const RUNS = Math.max(1, Number(process.env.BENCH_FLEET_RUNS ?? 5));

/** timeProcess without blocking the event loop (the load generator runs in this process). */
function timeAsync(argv, opts = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) reject(new Error(`${argv.join(' ')} exited ${code}: ${out.slice(-2000)}`));
      else resolve(ms);
    });
  });
}
const dist = (p) => import(join(ROOT, 'dist', 'src', ...p.split('/')));
const { startLabSshd } = await dist('lab/sshd.js');
const { startLabHaproxy, startLoad } = await dist('lab/haproxy.js');
const { generateDemoApp } = await dist('demo/generate-app.js');

const work = mkdtempSync(join(tmpdir(), 'ltc-bench-fleet-'));
const hosts = [];
let lb;
const floorPids = [];
const cleanup = async () => {
  for (const h of hosts) {
    for (const f of [...Object.values(h.roots).map((r) => join(r, 'shared', 'app.pid')), ...Object.values(h.floorRoots).map((r) => join(r, 'floor.pid'))]) {
      try {
        const pid = Number(/(?:^pid=)?(\d+)/m.exec(readFileSync(f, 'utf8'))[1]);
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* not running */
      }
    }
    await h.sshd.stop();
  }
  await lb?.stop();
  for (const pid of floorPids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  rmSync(work, { recursive: true, force: true });
};

try {
  const app = await generateDemoApp({ dir: join(work, 'app') });
  const envs = { one: 1, four: 4, eight: 8 };
  for (let i = 1; i <= 8; i++) {
    const base = join(work, 'hosts', `api${i}`);
    mkdirSync(join(base, 'sshd'), { recursive: true });
    const h = { name: `api${i}`, sshd: await startLabSshd(join(base, 'sshd')), roots: {}, floorRoots: {}, ports: {}, floorPorts: {} };
    for (const e of Object.keys(envs)) {
      h.roots[e] = join(base, e);
      h.floorRoots[e] = join(base, `floor-${e}`);
      h.ports[e] = await freePort();
      h.floorPorts[e] = await freePort();
    }
    hosts.push(h);
  }
  const pub = readFileSync(`${hosts[0].sshd.identity}.pub`);
  for (const h of hosts.slice(1)) writeFileSync(join(h.sshd.dir, 'authorized_keys'), pub);
  const ops = join(work, 'ops');
  mkdirSync(ops);
  const knownHosts = join(ops, 'known_hosts');
  for (const h of hosts) appendFileSync(knownHosts, readFileSync(h.sshd.knownHosts));
  mkdirSync(join(work, 'lb'));
  lb = await startLabHaproxy(join(work, 'lb'), 'app', Object.fromEntries(hosts.map((h) => [h.name, h.ports.eight])));
  const nodeBin = dirname(process.execPath);
  const target = (e, n) => ({
    type: 'ssh',
    identity_file: hosts[0].sshd.identity,
    known_hosts: knownHosts,
    build: [['npm', 'run', 'build']],
    start: ['node', 'server.mjs'],
    env: { PATH: `${nodeBin}:/usr/local/bin:/usr/bin:/bin`, HOST: '127.0.0.1' },
    health_deadline: '15s',
    stop_grace: '3s',
    batch: 4,
    connect_timeout: '5s',
    ...(n === 8 ? { lb: { type: 'haproxy', socket: lb.socket, backend: 'app' } } : {}),
    hosts: hosts.slice(0, n).map((h) => ({ name: h.name, address: '127.0.0.1', port: h.sshd.port, user: h.sshd.user, deploy_root: h.roots[e], url: `http://127.0.0.1:${h.ports[e]}`, env: { PORT: String(h.ports[e]) } })),
  });
  const config = {
    version: 1,
    app: { name: 'bench', repo: app.repoDir },
    environments: Object.fromEntries(Object.entries(envs).map(([e, n]) => [e, { url: `http://127.0.0.1:${hosts[0].ports[e]}`, target: target(e, n), secrets: { backend: 'file', required: [{ name: 'LTC_SECRET_KEY', kind: 'secret_key' }] } }])),
  };
  writeFileSync(join(ops, 'ltc.config.yaml'), stringify(config));
  const env = { ...process.env, NO_COLOR: '1', CI: 'true', LTC_MASTER_KEY: randomBytes(32).toString('base64') };
  delete env.LTC_CONFIG;
  delete env.LTC_ENV;
  const ltc = (...args) => {
    const r = spawnSync(process.execPath, [LTC, ...args], { cwd: ops, encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`ltc ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  };
  for (const e of Object.keys(envs)) ltc('secrets', 'generate', 'LTC_SECRET_KEY', '--env', e);
  // Two releases on every host of every environment, so each rollback has somewhere to go.
  for (const e of Object.keys(envs)) for (const rc of ['rc-2026-02-15', 'rc-2026-03-01']) ltc('deploy', '--rc', rc, '--env', e);

  // The floor: a bare mirror to archive from, one bash script for a deploy and one for a rollback.
  const mirror = join(work, 'mirror.git');
  spawnSync('git', ['clone', '-q', '--mirror', app.repoDir, mirror]);
  const commitOf = (rc) => spawnSync('git', ['-C', mirror, 'rev-parse', `${rc}^{commit}`], { encoding: 'utf8' }).stdout.trim();
  const user = hosts[0].sshd.user;
  // Hosts in groups of 4 in parallel; each: `upload` (may be empty), then one ssh doing `remote`, then curl until 200.
  const floorScript = (file, head, upload, remote) =>
    writeFileSync(
      file,
      `#!/bin/bash
# ${head}; then "sshport root appport" per host.
set -eu
${head.startsWith('$1 mirror') ? 'mirror=$1 commit=$2 rel=$3; shift 3' : 'rel=$1; shift'}
one() {
  set -eu
  local p=$1 root=$2 port=$3
  local S="ssh -i ${hosts[0].sshd.identity} -o UserKnownHostsFile=${knownHosts} -o BatchMode=yes -p $p ${user}@127.0.0.1"
  ${upload}
  $S "set -e; ${remote} \\
    old=\\$(cat $root/floor.pid 2>/dev/null || true); if [ -n \\"\\$old\\" ]; then kill -TERM -\\$old 2>/dev/null || true; while kill -0 \\$old 2>/dev/null && [ \\"\\$(awk '{print \\$3}' /proc/\\$old/stat 2>/dev/null)\\" != Z ]; do sleep 0.02; done; fi; \\
    cd $root/current; PORT=$port HOST=127.0.0.1 PATH=${nodeBin}:\\$PATH setsid node server.mjs >/dev/null 2>&1 < /dev/null & echo \\$! > $root/floor.pid"
  until curl -sf -o /dev/null "http://127.0.0.1:$port/api/health"; do sleep 0.02; done
}
while [ $# -gt 0 ]; do
  n=0
  while [ $# -gt 0 ] && [ $n -lt 4 ]; do one $1 $2 $3 & shift 3; n=$((n+1)); done
  wait
done
`,
    );
  const floorDeploy = join(work, 'floor-deploy.sh');
  floorScript(
    floorDeploy,
    '$1 mirror $2 commit $3 release',
    'git -C "$mirror" archive --format=tar "$commit" | $S "mkdir -p $root/releases/$rel && tar -x -f - -C $root/releases/$rel"',
    `cd $root/releases/$rel; PATH=${nodeBin}:\\$PATH npm run build >/dev/null 2>&1; ln -sfn releases/$rel $root/.c; mv -T $root/.c $root/current;`,
  );
  const floorRollback = join(work, 'floor-rollback.sh');
  floorScript(floorRollback, '$1 release', ':', 'ln -sfn releases/$rel $root/.c; mv -T $root/.c $root/current;');
  const specs = (e, n) => hosts.slice(0, n).flatMap((h) => [String(h.sshd.port), h.floorRoots[e], String(h.floorPorts[e])]);
  let k = 0;
  const floorRun = (e, n, rc) => timeProcess(['bash', floorDeploy, mirror, commitOf(rc), `${rc}-floor-${k++}`, ...specs(e, n)]);
  // Two floor releases per environment for the floor's rollbacks.
  for (const [e, n] of Object.entries(envs)) for (const rc of ['rc-2026-02-15', 'rc-2026-03-01']) timeProcess(['bash', floorDeploy, mirror, commitOf(rc), `${rc}-base`, ...specs(e, n)]);

  let rcNext = 'rc-2026-02-15';
  const flip = () => (rcNext = rcNext === 'rc-2026-02-15' ? 'rc-2026-03-01' : 'rc-2026-02-15');
  const loads = [];
  const underLoad = async (fn) => {
    const l = startLoad(`http://127.0.0.1:${lb.port}/api/health`, 4);
    try {
      return await fn();
    } finally {
      loads.push(await l.stop());
    }
  };
  const deploy = (e) => () => timeAsync([process.execPath, LTC, 'deploy', '--rc', flip(), '--env', e], { cwd: ops, env });
  const rollback = (e) => () => timeAsync([process.execPath, LTC, 'rollback', '--env', e], { cwd: ops, env });
  let floorRel = { one: 'rc-2026-02-15-base', eight: 'rc-2026-02-15-base' };
  const floorBack = (e, n) => () => {
    floorRel[e] = floorRel[e] === 'rc-2026-02-15-base' ? 'rc-2026-03-01-base' : 'rc-2026-02-15-base';
    return timeProcess(['bash', floorRollback, floorRel[e], ...specs(e, n)]);
  };
  const t = await interleave(
    {
      deploy1: deploy('one'),
      deploy4: deploy('four'),
      deploy8: () => underLoad(deploy('eight')),
      floor1: () => floorRun('one', 1, flip()),
      floor4: () => floorRun('four', 4, flip()),
      floor8: () => floorRun('eight', 8, flip()),
      rollback1: rollback('one'),
      rollback8: () => underLoad(rollback('eight')),
      floorBack1: floorBack('one', 1),
      floorBack8: floorBack('eight', 8),
    },
    RUNS,
  );
  const results = loads;
  const requests = results.reduce((a, r) => a + r.requests, 0);
  const failed = results.reduce((a, r) => a + r.failed, 0);
  emit('fleet', [
    { case: 'ltc deploy, 1 host', ltc: t.deploy1, floorName: 'bash over plain ssh, 1 host', floor: t.floor1 },
    { case: 'ltc deploy, 4 hosts (batch 4)', ltc: t.deploy4, floorName: 'bash over plain ssh, 4 hosts in parallel', floor: t.floor4 },
    { case: 'ltc deploy, 8 hosts (batch 4, HAProxy drain, under load)', ltc: t.deploy8, floorName: 'bash over plain ssh, 8 hosts, 4 at a time', floor: t.floor8 },
    { case: 'ltc rollback, 1 host', ltc: t.rollback1, floorName: 'bash: ssh switch + restart + curl, 1 host', floor: t.floorBack1 },
    { case: 'ltc rollback, 8 hosts (batch 4, HAProxy drain, under load)', ltc: t.rollback8, floorName: 'bash: the same, 8 hosts, 4 at a time', floor: t.floorBack8 },
  ]);
  const scale = (a, b) => (a.median / b.median).toFixed(2);
  console.log(`\nscaling: deploy 8 hosts / 1 host = ${scale(t.deploy8, t.deploy1)}× (goal ≤ 2×; floor ${scale(t.floor8, t.floor1)}×); rollback 8 / 1 = ${scale(t.rollback8, t.rollback1)}× (goal ≤ 2×; floor ${scale(t.floorBack8, t.floorBack1)}×)`);
  console.log(`requests through HAProxy during the ${RUNS + 1} deploys and ${RUNS + 1} rollbacks of 8 hosts: ${requests}, failed: ${failed} (goal 0)${failed ? `: ${results.flatMap((r) => r.failures).slice(0, 5).join('; ')}` : ''}`);
  if (failed || t.deploy8.median > 2 * t.deploy1.median || t.rollback8.median > 2 * t.rollback1.median) process.exitCode = 1;
} finally {
  await cleanup();
}
