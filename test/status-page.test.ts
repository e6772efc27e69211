/**
 * ltc status-page build, opened in headless Chromium (Debian's chromium): what a visitor sees
 * (the state per environment, the incidents of the last 90 days with their public updates, not
 * the internal notes), readable with JavaScript off, self-contained (no external URL), and
 * `<script>` / event-handler HTML in incident text does not run — checked with the page's CSP
 * and with a template override that has no CSP and a control script that does run.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ROOT, cleanupTempDirs, tempDir } from './helpers/cli.ts';
import { dumpDom, screenshot } from './helpers/chromium.ts';
import { ltcInProcess } from './helpers/inproc.ts';

const PAYLOAD = `<script>document.documentElement.dataset.pwned='script'</script><img src=x onerror="document.documentElement.dataset.pwned='img'">`;

let ops: string;
let prodId: string;
let stagingId: string;
const oldId = 'INC-20200101-1';

async function ltc(args: string[]) {
  const r = await ltcInProcess(args, { cwd: ops });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

beforeAll(async () => {
  ops = join(await tempDir('ltc-status-'), 'ops');
  await mkdir(ops, { recursive: true });
  await writeFile(
    join(ops, 'ltc.config.yaml'),
    stringify({
      version: 1,
      app: { name: 'demo', repo: ops },
      default_env: 'staging',
      environments: { staging: { url: 'http://127.0.0.1:9' }, prod: { url: 'http://127.0.0.1:9', protected: true }, eu: { url: 'http://127.0.0.1:9' } },
      incidents: { status_page_title: 'Demo & Co status' },
    }),
  );
  prodId = (
    (await ltc(['incident', 'open', '--sev', '1', '--title', `Checkout down ${PAYLOAD}`, '--env', 'prod', '--impact', `Orders fail ${PAYLOAD}`, '--json'])).json as { id: string }
  ).id;
  await ltc(['incident', 'note', prodId, `internal: db01 disk full ${PAYLOAD}`]);
  await ltc(['incident', 'update', prodId, '--status', 'identified', '--message', `Database full; freeing space ${PAYLOAD}`]);
  stagingId = ((await ltc(['incident', 'open', '--sev', '3', '--title', 'Slow search', '--env', 'staging', '--json'])).json as { id: string }).id;
  await ltc(['incident', 'update', stagingId, '--status', 'resolved', '--message', 'Index rebuilt']);
  await ltc(['incident', 'close', stagingId]);
  // An incident of 2020: older than 90 days, not on the page.
  const t = '2020-01-01T10:00:00.000Z';
  await writeFile(
    join(ops, '.ltc', 'incidents', `${oldId}.json`),
    JSON.stringify({
      version: 1, id: oldId, title: 'Ancient outage', severity: 2, environment: 'prod', release: null, rc: null, commander: 'x', impact: null,
      status: 'resolved', state: 'closed', openedAt: t, startedAt: t, resolvedAt: t, closedAt: t,
      events: [{ time: t, actor: 'x', kind: 'open', status: 'investigating', text: 'Ancient outage' }],
    }),
  );
}, 60_000);
afterAll(cleanupTempDirs);

function rowOf(dom: string, env: string): string {
  const m = new RegExp(`<tr class="(\\w+)"><th scope="row">${env}</th>(.*?)</tr>`).exec(dom);
  expect(m, `no row for ${env}`).not.toBeNull();
  return `${m![1]} ${m![2]!.replace(/(<[^>]+>)+/g, '|')}`;
}

describe('ltc status-page build in headless Chromium', () => {
  let file: string;
  let html: string;
  beforeAll(async () => {
    const r = await ltc(['status-page', 'build', '--out', 'public/status', '--json']);
    file = (r.json as { file: string }).file;
    expect(file).toBe(join(ops, 'public', 'status', 'index.html'));
    expect((r.json as { environments: Record<string, string> }).environments).toEqual({ staging: 'Operational', prod: 'Major outage', eu: 'Operational' });
    html = readFileSync(file, 'utf8');
  });

  it('shows the state of every environment and the incidents of the last 90 days with their updates', async () => {
    // The page has no script and its CSP (default-src 'none') allows none: this is what a visitor without JavaScript sees.
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    const dom = await dumpDom(file);
    expect(dom).toContain('<title>Demo &amp; Co status</title>');
    expect(rowOf(dom, 'prod')).toMatch(/^bad \|Major outage\|Checkout down/);
    expect(rowOf(dom, 'staging')).toMatch(/^ok \|Operational\|—\|—\|$/);
    expect(rowOf(dom, 'eu')).toMatch(/^ok \|Operational\|/);
    // The ongoing incident with its updates, newest first; the closed one; not the one of 2020.
    const prod = new RegExp(`<article id="${prodId}" class="open">(.*?)</article>`).exec(dom)?.[1] ?? '';
    expect(prod).toContain('Ongoing · severity 1 · prod');
    const updates = [...prod.matchAll(/<strong>(\w+)<\/strong>/g)].map((m) => m[1]);
    expect(updates).toEqual(['Identified', 'Investigating']);
    expect(prod).toContain('Database full; freeing space &lt;script&gt;');
    expect(prod).toContain('Orders fail &lt;script&gt;');
    const staging = new RegExp(`<article id="${stagingId}" class="closed">(.*?)</article>`).exec(dom)?.[1] ?? '';
    expect(staging).toContain('Slow search');
    expect(staging).toContain('Index rebuilt');
    expect([...staging.matchAll(/<strong>(\w+)<\/strong>/g)].map((m) => m[1])).toEqual(['Closed', 'Resolved', 'Investigating']);
    expect(dom).not.toContain(oldId);
    expect(dom).not.toContain('Ancient outage');
    // Notes are internal: never on the public page.
    expect(dom).not.toContain('db01 disk full');
  }, 90_000);

  it('HTML in incident text does not run: no script element, no handler, nothing set by it', async () => {
    const dom = await dumpDom(file);
    expect(dom).not.toContain('data-pwned');
    expect(dom).not.toMatch(/<script/i);
    expect(dom).not.toMatch(/<img/i);
    expect(dom).toContain('Checkout down &lt;script&gt;document.documentElement.dataset.pwned=\'script\'&lt;/script&gt;&lt;img src=x onerror="document.documentElement.dataset.pwned=\'img\'"&gt;');
  }, 90_000);

  it('still does not run without the CSP (an ops template override), while a script of the template itself does', async () => {
    const dir = join(ops, 'templates');
    await mkdir(dir, { recursive: true });
    const own = readFileSync(join(ROOT, 'templates', 'status-page.html'), 'utf8')
      .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\n/, '')
      .replace('</body>', `<script>document.documentElement.dataset.control='ran'</script>\n</body>`);
    expect(own).not.toContain('Content-Security-Policy');
    await writeFile(join(dir, 'status-page.html'), own);
    try {
      const r = await ltc(['status-page', 'build', '--out', 'public/nocsp', '--json']);
      const dom = await dumpDom((r.json as { file: string }).file);
      expect(dom).toMatch(/<html lang="en" data-control="ran">/);
      expect(dom).not.toContain('data-pwned');
      expect(dom).toContain('Database full; freeing space &lt;script&gt;');
    } finally {
      const { rm } = await import('node:fs/promises');
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('is one self-contained file: no external URL, no asset to fetch', async () => {
    // Every tag (text is escaped: a < in it is &lt;): no attribute that loads something, links only to #ids.
    const tags = html.match(/<[a-zA-Z][^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThan(20);
    for (const tag of tags) expect(tag).not.toMatch(/\s(src|srcset|action|poster|data|background)\s*=|\shref\s*=\s*"(?!#)/i);
    expect(tags.filter((t) => t.startsWith('<a ')).length).toBeGreaterThan(0);
    expect(html).not.toMatch(/<(link|script|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).not.toMatch(/https?:\/\//i);
    // It renders: a screenshot of a page with content is not a blank image.
    const png = join(ops, 'status.png');
    await screenshot(file, png);
    expect(existsSync(png)).toBe(true);
    expect(statSync(png).size).toBeGreaterThan(20_000);
  }, 90_000);
});
