/**
 * The local target with a `service` command instead of ltc's supervisor (think `systemctl restart
 * ltc-api`): ltc runs the command after the switch, health-checks, scans the configured log_file,
 * and rolls back by switching and running the command again.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from './helpers/cli.ts';
import { currentRelease, liveVersion, makeStage, processesUnder, revisions, stopStage, type Stage } from './helpers/deploy.ts';

let s: Stage | undefined;
afterAll(async () => {
  if (s) {
    await stopStage(s);
    expect(processesUnder(s.dir)).toEqual([]);
  }
  await cleanupTempDirs();
});

describe('a service command instead of the supervisor', () => {
  it('deploys, rolls a broken release back, and scans the service log', async () => {
    const svc = join(await tempDir('ltc-svc-'), 'svc');
    mkdirSync(svc);
    const script = join(svc, 'restart.sh');
    // A stand-in for a service manager: stop what it started, start <deploy_root>/current.
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'set -e',
        'PIDFILE="$1/svc.pid"',
        'if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; sleep 0.3; fi',
        'cd "$2/current"',
        'setsid node server.mjs >> "$1/svc.log" 2>&1 < /dev/null &',
        'echo $! > "$PIDFILE"',
        'echo "service restarted: $(pwd -P)"',
        '',
      ].join('\n'),
    );
    s = await makeStage({ target: { start: undefined } });
    // the stage's deploy root is known only now: write the service command with it
    const cfgFile = join(s.ops, 'ltc.config.yaml');
    const { parse, stringify } = await import('yaml');
    const cfg = parse(readFileSync(cfgFile, 'utf8')) as { environments: { staging: { target: Record<string, unknown> } } };
    delete cfg.environments.staging.target.start;
    cfg.environments.staging.target.service = ['sh', script, svc, s.deployRoot];
    cfg.environments.staging.target.log_file = join(svc, 'svc.log');
    writeFileSync(cfgFile, stringify(cfg));

    const a = await s.ltc(['deploy', '--rc', 'rc-2026-02-15', '--env', 'staging', '--verbose']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('service restarted');
    expect(await liveVersion(s)).toBe('1.0.0');
    const b = await s.ltc(['deploy', '--rc', 'rc-2026-03-01', '--env', 'staging']);
    expect(b.code, b.stderr).toBe(0);
    expect(await liveVersion(s)).toBe('1.1.0');
    const good = currentRelease(s);
    const c = await s.ltc(['deploy', '--rc', 'rc-2026-03-01.1', '--env', 'staging']);
    expect(c.code, c.stderr).toBe(3);
    expect(currentRelease(s)).toBe(good);
    expect(await liveVersion(s)).toBe('1.1.0');
    expect(revisions(s).map((r) => r.outcome)).toEqual(['ok', 'ok', 'rolled_back']);
    const rel = await s.ltc(['releases', '--env', 'staging']);
    expect(rel.stdout).toContain('app managed by the service command');
  });
});
