/**
 * The ssh target's rolling settings: batch n or n%, canary, max_failures, roles, build_on — what
 * the config accepts and refuses (with the path and a fix), and the batch plan it gives.
 */
import { describe, expect, it } from 'vitest';
import { batchSize, sshTargetSchema } from '../src/config/schema/target.ts';
import { hostsOf } from '../src/fleet/open.ts';
import { planBatches } from '../src/fleet/rolling.ts';

const host = (name: string, roles: string[] = []) => ({ name, address: '127.0.0.1', user: 'deploy', url: `http://127.0.0.1/${name}`, roles });
const base = (over: Record<string, unknown> = {}, hosts = ['a1', 'a2', 'a3', 'a4', 'a5'].map((n) => host(n))) => ({
  type: 'ssh',
  deploy_root: '/srv/app',
  start: ['node', 'server.mjs'],
  hosts,
  ...over,
});
const issues = (cfg: unknown) => {
  const r = sshTargetSchema.safeParse(cfg);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('ssh target: rolling settings', () => {
  it('batch as a share rounds up, at least one host', () => {
    expect(batchSize('25%', 8)).toBe(2);
    expect(batchSize('10%', 3)).toBe(1);
    expect(batchSize('50%', 5)).toBe(3);
    expect(batchSize(4, 8)).toBe(4);
  });

  it('plans the canary first, then batches of the rest; a rollback has no canary', () => {
    const cfg = sshTargetSchema.parse(base({ canary: 1, batch: '50%' }));
    const hosts = hostsOf(cfg);
    expect(planBatches(hosts, cfg, true).map((b) => [b.canary, b.hosts.map((h) => h.name)])).toEqual([
      [true, ['a1']],
      [false, ['a2', 'a3', 'a4']],
      [false, ['a5']],
    ]);
    expect(planBatches(hosts, cfg, false).map((b) => b.hosts.length)).toEqual([3, 2]);
    // --hosts narrowed to one host: no canary (it would be every host).
    expect(planBatches(hosts.slice(0, 1), cfg, true).map((b) => b.canary)).toEqual([false]);
  });

  it('refuses a bad batch, a canary of every host, a negative max_failures, an unknown build_on', () => {
    expect(issues(base({ batch: '0%' }))).toEqual([expect.stringMatching(/^batch: .*25%/)]);
    expect(issues(base({ batch: '150%' })).join()).toMatch(/^batch: /);
    expect(issues(base({ batch: 0 })).join()).toMatch(/^batch: /);
    expect(issues(base({ canary: 5 }))).toEqual(['canary: canary 5 is every host (5): leave at least one host for after the canary window']);
    expect(issues(base({ max_failures: -1 })).join()).toMatch(/^max_failures: /);
    expect(issues(base({ build_on: 'elsewhere' })).join()).toMatch(/^build_on: .*remote.*local/);
  });

  it('roles: settings per role override the target in the host\'s order; a typo in a host\'s role says did you mean; an unknown key is refused', () => {
    const roles = { web: { restart: false, health_path: '/' }, api: { build: [['npm', 'ci']] } };
    const cfg = sshTargetSchema.parse(base({ roles }, [host('w1', ['web']), host('a1', ['api']), host('x1', ['db'])]));
    const [w1, a1, x1] = hostsOf(cfg);
    expect(w1).toMatchObject({ restart: false, healthPath: '/', build: [] });
    expect(a1).toMatchObject({ restart: true, healthPath: '/api/health', build: [['npm', 'ci']] });
    expect(x1).toMatchObject({ restart: true, healthPath: '/api/health' });
    expect(issues(base({ roles }, [host('w1', ['webs'])]))).toEqual(['hosts.0.roles.0: role webs has no settings under roles; did you mean web?']);
    expect(issues(base({ roles: { web: { restrat: false } } })).join()).toMatch(/^roles\.web: .*restrat/);
  });

  it('a host whose app nobody starts is refused unless its role needs no restart', () => {
    const noStart = { ...base({ roles: { web: { restart: false } } }, [host('w1', ['web']), host('a1', ['api'])]), start: undefined };
    expect(issues(noStart)).toEqual([expect.stringMatching(/^hosts\.1: give start .* host a1/)]);
  });

  it('--roles keeps the hosts with one of the roles; an unknown role is a usage error naming the known ones', () => {
    const cfg = sshTargetSchema.parse(base({}, [host('w1', ['web']), host('a1', ['api']), host('a2', ['api', 'web'])]));
    expect(hostsOf(cfg, undefined, 'api').map((h) => h.name)).toEqual(['a1', 'a2']);
    expect(hostsOf(cfg, 'w1,a1', 'web').map((h) => h.name)).toEqual(['w1']);
    expect(() => hostsOf(cfg, undefined, 'db')).toThrow(/--roles: no host has the role "db"/);
  });

  it('hostile host names, users, addresses and server names are refused by the config, naming the field', () => {
    const hostile = ['api1;reboot', 'a$(id)', 'a`id`', 'a\nb', 'api*', '-oProxyCommand=sh', '../x', 'a b', "a'b"];
    for (const v of hostile) {
      expect(issues(base({}, [{ ...host('a1'), name: v }])).join(), `name ${JSON.stringify(v)}`).toMatch(/^hosts\.0\.name: /);
      expect(issues(base({}, [{ ...host('a1'), user: v }])).join(), `user ${JSON.stringify(v)}`).toMatch(/^hosts\.0\.user: /);
      expect(issues(base({}, [{ ...host('a1'), lb_server: v }])).join(), `lb_server ${JSON.stringify(v)}`).toMatch(/^hosts\.0\.lb_server: /);
    }
    for (const v of ['-oProxyCommand=touch /tmp/x', 'host;id', 'a b', '$(id)', '']) {
      expect(issues(base({}, [{ ...host('a1'), address: v }])).join(), `address ${JSON.stringify(v)}`).toMatch(/^hosts\.0\.address: /);
    }
    expect(issues(base({ deploy_root: 'srv/app' })).join()).toMatch(/deploy_root on a host must be an absolute path/);
    // A deploy root with spaces, quotes and $() is allowed: it is quoted for the remote shell (test/fleet-quote.test.ts).
    expect(issues(base({ deploy_root: "/srv/my app/$(id)/'x'" }))).toEqual([]);
  });
});
