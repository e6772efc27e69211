import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { stopApp } from '../targets/local/supervisor.js';
import { DEMO_TAGS } from './generate-app.js';

export interface DemoWorkspace {
  work: string;
  repoDir: string;
  opsDir: string;
  deployRoot: string;
  port: number;
  env: NodeJS.ProcessEnv;
}

export interface DemoStage {
  title: string;
  /** Arguments after `ltc`. */
  args: string[];
  expectExit?: number;
  explain?: string;
  continueOnFailure?: boolean;
  /** Runs after the stage went as expected; its text is printed. */
  after?: () => Promise<string | undefined>;
}

export interface DemoPlan {
  stages: DemoStage[];
  /** Runs however the demo ends (success, failure, Ctrl-C): nothing may be left running. */
  cleanup: () => Promise<string | undefined>;
}

const [OLD, CURRENT] = DEMO_TAGS.good;
const BROKEN = DEMO_TAGS.broken;
const FLAKY = DEMO_TAGS.flaky;

/** The whole story on the local target, as a release manager would type it. */
export function demoStages(ws: DemoWorkspace, _ctx: Context): DemoPlan {
  return {
    stages: [
      { title: 'validate the generated config', args: ['config', 'validate'] },
      {
        title: 'generate LTC_SECRET_KEY in the encrypted file store',
        args: ['secrets', 'generate', 'LTC_SECRET_KEY'],
        explain: '48 random bytes, base64url, AES-256-GCM in .ltc/secrets/demo.json; the value is never printed',
      },
      {
        title: `the handbook's final gates on ${CURRENT}`,
        args: ['gates', 'run', '--rc', CURRENT],
        explain: 'a clean checkout of the tag, npm ci, then the five gates; result in .ltc/gates/<commit>.json',
      },
      {
        title: `deploy ${OLD}`,
        args: ['deploy', '--rc', OLD],
        explain: 'mirror fetch, export, build, .env (0600) from the secret store, switch, start, health, log scan',
      },
      { title: `deploy ${CURRENT}`, args: ['deploy', '--rc', CURRENT] },
      { title: `health of ${CURRENT} (API and frontend)`, args: ['health'] },
      {
        title: `watch ${CURRENT} for 3s (ltc's own probes every 500ms)`,
        args: ['watch', '--for', '3s', '--interval', '500ms'],
        explain: "error rate and p50/p95/p99 of ltc's own requests against the thresholds; a release answering 500s fails after 3 bad intervals in a row (with --auto-rollback it is rolled back)",
      },
      {
        title: `deploy the broken ${BROKEN}: automatic rollback`,
        args: ['deploy', '--rc', BROKEN],
        expectExit: 3,
        explain: `its /api/health answers 500, so ltc switched back to ${CURRENT}, restarted it and checked it: exit 3`,
      },
      { title: `health after the automatic rollback`, args: ['health'] },
      {
        title: `ltc rollback (on-call: back to ${OLD})`,
        args: ['rollback'],
        explain: 'switch to the previous release, restart, health check; it prints how long it took',
      },
      { title: 'the releases on the target', args: ['releases'] },
      { title: 'the audit log is intact', args: ['audit', 'verify'] },
      { title: `deploy ${CURRENT} again after the rehearsed rollback`, args: ['deploy', '--rc', CURRENT] },
      {
        title: `deploy ${FLAKY}: its health checks pass`,
        args: ['deploy', '--rc', FLAKY],
        explain: '/api/health and / answer 200, so the deploy goes live; but every third /api/info answers 500',
      },
      {
        title: `watch ${FLAKY} with --auto-rollback: the 500s are caught and it is rolled back`,
        args: ['watch', '--for', '30s', '--interval', '500ms', '--auto-rollback'],
        expectExit: 3,
        explain: `ltc's probes of /api/health, /api/info and / see an error rate far above 0.1 % for 3 intervals in a row, then the rollback to ${CURRENT} (exit 3); with watch.alert.webhook set it would post the alert first`,
      },
      {
        title: `the go-live checklist for ${CURRENT}`,
        args: ['golive', 'check', '--rc', CURRENT, '--report', join(ws.work, 'golive-report.md')],
        expectExit: 1,
        explain: 'automated items pass or fail with their evidence, the database items are not applicable (no database in the demo), the sign-offs remain open: exit 1 (no-go); report in golive-report.md',
      },
    ],
    cleanup: async () => {
      const r = await stopApp(join(ws.deployRoot, 'shared', 'app.pid'), 3000);
      return r.stopped && r.pid ? `stopped the demo app (pid ${r.pid})` : undefined;
    },
  };
}
