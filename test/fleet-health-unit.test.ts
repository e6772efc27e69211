import { createServer, type Server } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { healthHost, probeHealth, switchHost } from '../src/fleet/host-ops.ts';
import type { Fleet, FleetHost, HostReport } from '../src/fleet/open.ts';
import { stateLines } from '../src/fleet/rolling.ts';
import { Masker } from '../src/core/masker.ts';

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

/** A loopback server answering every request with `status` (and a Location for 3xx). */
async function answering(status: number): Promise<string> {
  const s = createServer((_req, res) => {
    res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:9/elsewhere' } : {});
    res.end('x');
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address() as { port: number };
  return `http://127.0.0.1:${a.port}`;
}

/** `appGone`: what the host's "does the app still run" script prints ('' while it runs). */
function fleetWith(failures: number, appGone = ''): Fleet {
  return { healthMs: 3000, ctx: { signal: new AbortController().signal, masker: new Masker() }, config: { health_failures: failures }, pool: { script: async () => ({ exitCode: 0, stdout: appGone, output: appGone }) } } as unknown as Fleet;
}
const host = (url: string) => ({ name: 'api1', url, healthPath: '/api/health', root: '/srv', restart: false }) as unknown as FleetHost;

describe('fleet health of one host', () => {
  it('a redirect is not followed and is not green: health_failures answers in a row fail the host at once', async () => {
    const url = await answering(302);
    await expect(healthHost(fleetWith(3), host(url))).rejects.toThrow(/host api1: health .* answered 302 3 times in a row \(health_failures: 3\)/);
    expect(await probeHealth(host(url))).toBe('HTTP 302');
  });

  it('green at the first probe, from another process (the new app died on EADDRINUSE): the host fails with its log', async () => {
    const supervised = (url: string) => ({ ...host(url), restart: true, start: ['node', 'server.mjs'] }) as unknown as FleetHost;
    const url = await answering(200);
    const err = await healthHost(fleetWith(3, 'gone 4242\nError: listen EADDRINUSE: address already in use\n'), supervised(url)).catch((e: unknown) => e as Error & { hint?: string });
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/host api1: the app \(pid 4242\) exited while another process answered its health checks/);
    expect(err!.hint).toMatch(/last lines of \/srv\/shared\/logs\/app\.log on api1:\nError: listen EADDRINUSE/);
    // Its own app still running after the moment: green.
    await expect(healthHost(fleetWith(3), supervised(url))).resolves.toBeUndefined();
  });

  it('a 404 for a wrong health path fails after health_failures answers; a 2xx is green', async () => {
    const notFound = (await healthHost(fleetWith(2), host(await answering(404))).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(notFound.message).toMatch(/answered 404 2 times in a row/);
    expect(notFound.hint).toMatch(/has no \/api\/health: is health_path right/);
    const failing = (await healthHost(fleetWith(2), host(await answering(503))).catch((e: unknown) => e)) as Error & { hint?: string };
    expect(failing.hint).toMatch(/does not answer 2xx there; its log: \/srv\/shared\/logs\/app\.log on api1/);
    await expect(healthHost(fleetWith(3), host(await answering(204)))).resolves.toBeUndefined();
  });
});

describe('a fleet switch that fails', () => {
  type Answer = { exitCode: number; stdout: string; output: string } | Error;
  /** The pool answers the switch with `sw`, then "where does current point" with `asked`. */
  const fleetAnswering = (sw: Answer, asked: Answer) => {
    const answers = [sw, asked];
    const script = async () => {
      const a = answers.shift()!;
      if (a instanceof Error) throw a;
      return a;
    };
    return { ctx: { signal: new AbortController().signal }, pool: { script } } as unknown as Fleet;
  };
  const failed = { exitCode: 1, stdout: '', output: 'mv: cannot overwrite directory' };
  const moved = (confirmed: boolean[]) => (c: boolean) => confirmed.push(c);

  it('after current moved: told moved (confirmed); before it moved: not told; a host that cannot be asked: told unconfirmed', async () => {
    const h = host('http://127.0.0.1:9');
    const seen: boolean[][] = [[], [], []];
    await expect(switchHost(fleetAnswering(failed, { exitCode: 0, stdout: 'r2\n', output: '' }), h, 'r2', 'r1', moved(seen[0]!))).rejects.toThrow(/switching current to r2 failed/);
    await expect(switchHost(fleetAnswering(failed, { exitCode: 0, stdout: 'r1\n', output: '' }), h, 'r2', 'r1', moved(seen[1]!))).rejects.toThrow(/failed/);
    await expect(switchHost(fleetAnswering(new Error('api1 is unreachable: Connection reset'), new Error('api1 is unreachable')), h, 'r2', 'r1', moved(seen[2]!))).rejects.toThrow(/unreachable/);
    expect(seen).toEqual([[true], [], [false]]);
  });

  it('the state lines say when where current points is not confirmed', () => {
    const rep = (host: string, extra: Partial<HostReport>): [string, HostReport] => [host, { host, before: 'r1', current: 'r2', state: 'rollback_failed', phases: {}, ...extra }];
    const text = stateLines(new Map([rep('api1', { currentUnconfirmed: true }), rep('api2', {})]));
    expect(text).toMatch(/^ {2}api1: rollback_failed, current r2 \(unconfirmed: the host could not be asked after a failed switch\)$/m);
    expect(text).toMatch(/^ {2}api2: rollback_failed, current r2$/m);
  });
});
