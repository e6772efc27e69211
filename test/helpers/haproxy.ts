/** A real HAProxy and a load generator for tests (src/lab/haproxy.ts), in a temp folder removed by cleanupTempDirs. */
import { startLabHaproxy, type LabHaproxy } from '../../src/lab/haproxy.ts';
import { tempDir } from './cli.ts';

export { haproxyCommand, startLoad, type LoadResult } from '../../src/lab/haproxy.ts';
export type Haproxy = LabHaproxy;

export async function startHaproxy(backend: string, servers: Record<string, number>, checkPath = '/api/health'): Promise<Haproxy> {
  return startLabHaproxy(await tempDir('ltc-haproxy-'), backend, servers, checkPath);
}
