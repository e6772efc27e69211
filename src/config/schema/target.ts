import { z } from 'zod';
import { closest } from '../../core/suggest.js';
import { boundedDuration, command, duration, envVars, regexString } from './common.js';

export const localTargetSchema = z
  .strictObject({
    type: z.literal('local').describe('deploy on the machine ltc runs on'),
    deploy_root: z
      .string()
      .min(1)
      .describe('holds releases/, current, previous, shared/.env, shared/logs/app.log, revisions.log and the lock (relative to the config file)'),
    build: z
      .array(command)
      .default([['npm', 'ci'], ['npm', 'run', 'build']])
      .describe('commands run in the new release before it is put in place (e.g. npm ci, npm run build); they get `env`, not the secrets'),
    pre_switch: z
      .array(command)
      .default([])
      .describe('hooks run in the new release before the switch, e.g. migrations; they get `env` and the secrets'),
    start: command
      .optional()
      .describe("start command, run from <deploy_root>/current under ltc's supervisor (detached, pid file, log file), e.g. [node, server.mjs]"),
    service: command
      .optional()
      .describe('instead of start: a command that restarts the app as a service, e.g. [systemctl, restart, ltc-api]'),
    log_file: z
      .string()
      .optional()
      .describe('the app log to scan after a switch (default <deploy_root>/shared/logs/app.log, where `start` writes)'),
    env: envVars.default({}).describe('environment for build, hooks, start and smoke tests (not secrets: those come from the secret backend)'),
    stop_grace: duration.default('10s').describe('stop = SIGTERM to the process group, then SIGKILL after this'),
    health_deadline: duration
      .default('60s')
      .describe('how long the health checks may take to turn green after a start (retried until then)'),
    health_failures: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('an app that answers (HTTP) but fails its health conditions this many rounds in a row fails the health phase at once (no wait for health_deadline); connection refused and timeouts count as "not up yet"'),
    command_timeout: duration.default('15m').describe('each build, hook and smoke command is ended after this'),
    smoke: z.array(command).default([]).describe('smoke tests run in the release after health is green (LTC_URL is set to the environment url)'),
    log_scan: z
      .array(regexString)
      .default(['\\b5\\d\\d\\b', '\\bERROR\\b'])
      .describe("regular expressions that must not match the app log written since the start (5xx statuses and ERROR lines); the app's log of its answers to ltc's health probes before it was healthy is left out"),
    keep_releases: z.number().int().min(2).default(5).describe('newest releases kept; the current and previous ones are never removed'),
  })
  .superRefine((t, ctx) => {
    if (t.start && t.service) {
      ctx.addIssue({ code: 'custom', path: ['service'], message: 'give either start (ltc supervises the app) or service (a service manager does), not both' });
    }
  })
  .describe('the local target');

const hostName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a host name: letters, digits, dot, dash, underscore (at most 63)')
  .describe('name of the host in messages, --hosts and the lock');

export const sshHostSchema = z
  .strictObject({
    name: hostName,
    address: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.:_-]*$/, 'a host name or IP address (no spaces, no leading dash)').describe('DNS name or IP address ssh connects to'),
    port: z.number().int().min(1).max(65535).default(22).describe('sshd port'),
    user: z.string().regex(/^[A-Za-z_][A-Za-z0-9._-]*$/, 'a POSIX user name').describe('remote user ssh logs in as'),
    roles: z.array(z.string().min(1)).default([]).describe('roles of the host (e.g. api, web)'),
    deploy_root: z.string().min(1).optional().describe("this host's deploy root (absolute path on the host; default: the target's deploy_root)"),
    url: z.string().url().describe("the host's own base URL for its health check, e.g. http://10.0.0.5:8080"),
    env: envVars.default({}).describe('extra environment for this host (merged over the target env), e.g. PORT'),
    lb_server: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/, 'a server name: letters, digits, dot, dash, underscore, colon')
      .optional()
      .describe("this host's server name in the load balancer's backend (default: the host name)"),
  })
  .describe('one server of an ssh target');

const lbName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,62}$/, 'letters, digits, dot, dash, underscore, colon');

export const lbSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('haproxy').describe("HAProxy's runtime API: set server <backend>/<server> state drain|ready over its admin socket"),
      socket: z.string().startsWith('/').describe('the admin socket (haproxy.cfg: stats socket <path> level admin)'),
      via: hostName.optional().describe('the host (a name from hosts) the socket is on, reached over ssh (needs socat there); default: this machine'),
      backend: lbName.describe('the HAProxy backend the hosts are servers of'),
      drain_timeout: duration.default('30s').describe("after drain: wait at most this long for the server's open sessions to end before the restart"),
      ready_timeout: duration.default('30s').describe('after ready: wait at most this long for HAProxy to see the server UP before the next batch'),
    }),
    z.strictObject({
      type: z.literal('command').describe('any other load balancer: commands run on this machine'),
      drain: command.describe('take a host out, e.g. [./lb.sh, drain, "{server}"]; {host}, {address} and {server} are replaced'),
      enable: command.describe('put it back once its health is green'),
      timeout: duration.default('60s').describe('each command is ended after this'),
    }),
  ])
  .describe('drain each host from the load balancer before its restart, enable it once healthy');

const roleSchema = z
  .strictObject({
    build: z.array(command).optional().describe('build commands for hosts of this role'),
    start: command.optional().describe('start command for hosts of this role'),
    service: command.optional().describe('service command for hosts of this role'),
    health_path: z.string().startsWith('/').optional().describe("health path for hosts of this role (appended to the host's url)"),
    restart: z.boolean().optional().describe('false: nothing to restart (e.g. a web server that serves current/dist): switch and health check only'),
  })
  .describe('settings for the hosts of one role');

export const sshTargetSchema = z
  .strictObject({
    type: z.literal('ssh').describe('deploy to servers over ssh (system OpenSSH client; only POSIX sh, tar and coreutils needed on the hosts)'),
    hosts: z.array(sshHostSchema).min(1).describe('the servers; the first is the primary host (holds the environment lock)'),
    deploy_root: z.string().min(1).optional().describe('absolute path on every host holding releases/, current, previous, shared/.env, revisions.log'),
    identity_file: z.string().min(1).optional().describe('private key for ssh -i (relative to the config file)'),
    known_hosts: z.string().min(1).optional().describe('known_hosts file to check host keys against (relative to the config file; default ~/.ssh/known_hosts)'),
    host_key_check: z
      .enum(['strict', 'accept-new'])
      .default('strict')
      .describe('strict: an unknown or changed host key is refused; accept-new: an unknown key is added to known_hosts (a changed one is still refused)'),
    connect_timeout: duration.default('10s').describe('ssh ConnectTimeout'),
    build: z.array(command).default([]).describe('commands run on each host in the new release before the switch (e.g. [npm, run, build])'),
    start: command.optional().describe('start command, run detached on each host from <deploy_root>/current (pid file shared/app.pid, log shared/logs/app.log)'),
    service: command.optional().describe('instead of start: a command run on the host that restarts the app, e.g. [sudo, systemctl, restart, api]'),
    env: envVars.default({}).describe('environment for build and start on every host (PATH included); secrets come from shared/.env'),
    stop_grace: duration.default('10s').describe('stop = SIGTERM to the app, then SIGKILL after this'),
    health_path: z.string().startsWith('/').default('/api/health').describe("path appended to each host's url; green = HTTP 2xx"),
    health_deadline: duration.default('60s').describe('how long a host may take to turn healthy after its restart'),
    health_failures: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe('a host that answers (HTTP) but not 2xx this many rounds in a row fails its health at once (no wait for health_deadline); connection refused and timeouts count as "not up yet"'),
    batch: z
      .union([z.number().int().min(1), z.string().regex(/^(100|[1-9][0-9]?)%$/, 'a share of the hosts such as 25%')])
      .default(1)
      .describe('hosts switched and restarted at the same time (rolling): a number, or a share such as 25% (rounded up, at least 1)'),
    canary: z.number().int().min(0).default(0).describe('deploy: the first N hosts go first, alone, and must stay healthy for canary_window before the rest'),
    canary_window: duration.default('30s').describe('how long the canary hosts are watched (health every second) before the rest follow'),
    max_failures: z.number().int().min(0).default(0).describe('deploy: hosts after the canary that may fail (each rolled back on its own) before the whole deploy is rolled back'),
    build_on: z.enum(['remote', 'local']).default('remote').describe('remote: the build commands run on each host; local: once here, and the built tree is shipped to every host'),
    roles: z.record(z.string().min(1), roleSchema).default({}).describe("settings per role (a host's roles, in order, override the target's): build, start, service, health_path, restart"),
    lb: lbSchema.optional(),
    command_timeout: duration.default('15m').describe('each remote command is ended after this'),
    lock_stale_after: boundedDuration(1000, 86_400_000).default('60s').describe("the run touches the lock's heartbeat on the primary host every quarter of this; a lock whose heartbeat is older is stale (a killed run) and the next run takes it over"),
    keep_releases: z.number().int().min(2).default(5).describe('newest releases kept per host; current and previous are never removed'),
  })
  .superRefine((t, ctx) => {
    if (t.start && t.service) ctx.addIssue({ code: 'custom', path: ['service'], message: 'give either start or service, not both' });
    t.hosts.forEach((h, i) => {
      // A host's roles, in order, override the target: someone must start its app unless it needs no restart.
      const set = h.roles.map((r) => t.roles[r]).filter((x) => x !== undefined);
      const restart = set.reduce<boolean>((acc, r) => r.restart ?? acc, true);
      const starts = Boolean(t.start || t.service || set.some((r) => r.start || r.service));
      if (restart && !starts) {
        ctx.addIssue({ code: 'custom', path: t.hosts.length > 1 || h.roles.length ? ['hosts', i] : ['start'], message: `give start (ltc starts the app detached on each host) or service${h.roles.length ? `, on the target or a role of host ${h.name} (or restart: false for a role that needs no restart)` : ''}` });
      }
    });
    for (const [name, r] of Object.entries(t.roles)) {
      if (r.start && r.service) ctx.addIssue({ code: 'custom', path: ['roles', name, 'service'], message: 'give either start or service, not both' });
    }
    const seen = new Set<string>();
    t.hosts.forEach((h, i) => {
      if (seen.has(h.name)) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'name'], message: `host name ${h.name} is given twice` });
      seen.add(h.name);
      const root = h.deploy_root ?? t.deploy_root;
      if (!root) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'deploy_root'], message: 'no deploy_root for this host (set it here or on the target)' });
      else if (!root.startsWith('/')) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'deploy_root'], message: 'deploy_root on a host must be an absolute path' });
    });
    const via = t.lb?.type === 'haproxy' ? t.lb.via : undefined;
    if (via && !t.hosts.some((h) => h.name === via)) {
      ctx.addIssue({ code: 'custom', path: ['lb', 'via'], message: `no host named ${via} (hosts: ${t.hosts.map((h) => h.name).join(', ')})` });
    }
    const size = batchSize(t.batch, t.hosts.length);
    if (t.lb && size >= t.hosts.length && t.hosts.length > 1) {
      ctx.addIssue({ code: 'custom', path: ['batch'], message: `batch ${t.batch} drains all ${t.hosts.length} hosts from the load balancer at once: every request would fail; use a batch smaller than the number of hosts` });
    }
    if (t.canary >= t.hosts.length && t.canary > 0) {
      ctx.addIssue({ code: 'custom', path: ['canary'], message: `canary ${t.canary} is every host (${t.hosts.length}): leave at least one host for after the canary window` });
    }
    // A role without settings is a label (for --roles); one a letter or two off a configured role is a typo.
    t.hosts.forEach((h, i) => {
      h.roles.forEach((r, j) => {
        const near = r in t.roles ? undefined : (Object.keys(t.roles).find((k) => k.toLowerCase() === r.toLowerCase()) ?? (r.length >= 4 ? closest(r, Object.keys(t.roles)) : undefined));
        if (near) ctx.addIssue({ code: 'custom', path: ['hosts', i, 'roles', j], message: `role ${r} has no settings under roles; did you mean ${near}?` });
      });
    });
  })
  .describe('the ssh target: a fleet of servers');

export const targetSchema = z.discriminatedUnion('type', [localTargetSchema, sshTargetSchema]);

export type SshTargetConfig = z.output<typeof sshTargetSchema>;
export type SshHostConfig = z.output<typeof sshHostSchema>;
export type LbConfig = z.output<typeof lbSchema>;

export type LocalTargetConfig = z.output<typeof localTargetSchema>;
export type TargetConfig = z.output<typeof targetSchema>;

/** Hosts per batch for `batch: n` or `batch: "n%"` of `hosts` hosts: at least 1. */
export function batchSize(batch: number | string, hosts: number): number {
  if (typeof batch === 'number') return batch;
  return Math.max(1, Math.ceil((hosts * Number(batch.slice(0, -1))) / 100));
}
