import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface DemoConfigOptions {
  opsDir: string;
  repoDir: string;
  deployRoot: string;
  port: number;
}

/** The handbook's final gates, mapped to the demo app's Node tools (the local and the fleet demo). */
export const DEMO_GATES = [
  { name: 'diff-check', run: ['git', 'diff-tree', '--check', '--root', '-r', '--no-commit-id', '--diff-merges=first-parent', 'HEAD'], parallel: true },
  { name: 'build', run: ['npm', 'run', 'build'] },
  { name: 'e2e', run: ['npm', 'run', 'e2e'], timeout: '5m' },
  { name: 'test-all', run: ['node', 'tools/test_all.mjs'], parallel: true },
  { name: 'ist-check', run: ['node', 'tools/ist_check.mjs'], parallel: true },
];

/** The demo's ltc.config.yaml: the local target, the file secret backend, gates mapped to the Node tools. */
export function demoConfig(o: DemoConfigOptions): Record<string, unknown> {
  return {
    version: 1,
    app: { name: 'lifetimecircle-demo', repo: o.repoDir },
    gates: DEMO_GATES,
    environments: {
      demo: {
        description: 'throwaway demo on this machine',
        url: `http://127.0.0.1:${o.port}`,
        health: {
          timeout: '2s',
          retries: 2,
          backoff: '100ms',
          endpoints: [
            { name: 'api', url: '/api/health', conditions: ['status == 200', 'body.status == "ok"', 'response_time < 500'] },
            { name: 'frontend', url: '/', conditions: ['status == 200', 'body contains "LifeTimeCircle"'] },
          ],
        },
        target: {
          type: 'local',
          deploy_root: o.deployRoot,
          build: [['npm', 'ci'], ['npm', 'run', 'build']],
          start: ['node', 'server.mjs'],
          env: { PORT: String(o.port), HOST: '127.0.0.1' },
          smoke: [['node', '-e', "fetch(process.env.LTC_URL + '/api/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]],
          stop_grace: '3s',
          health_deadline: '5s',
        },
        watch: { interval: '500ms', failure_limit: 3, success_limit: 3, min_requests: 5, probes: ['/api/health', '/api/info', '/'] },
        secrets: {
          backend: 'file',
          key_file: join(o.opsDir, '.ltc', 'master.key'),
          required: [{ name: 'LTC_SECRET_KEY', kind: 'secret_key', min_bytes: 32 }],
        },
      },
    },
    contacts: [{ name: 'Demo Operator', role: 'release-manager', email: 'demo@example.invalid' }],
    golive: {
      staging: 'demo',
      architecture: { hosting: 'this machine (local target)', api_deployment: 'node server.mjs under ltc', database: 'none in the demo', frontend: 'same-host static' },
      hostnames: ['localhost'],
      paging_tool: 'demo pager (none)',
      status_page: 'https://status.example.invalid',
      rehearsal_max_age: '1d',
    },
  };
}

export async function writeDemoConfig(o: DemoConfigOptions): Promise<string> {
  const file = join(o.opsDir, 'ltc.config.yaml');
  const header = '# Written by `ltc demo` for a throwaway demo app. Safe to delete.\n';
  await writeFile(file, header + stringify(demoConfig(o)));
  return file;
}
