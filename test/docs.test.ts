import { afterAll, describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { generateDocs, readmeWithTable } from '../src/docs/generate.js';
import { loadGroups } from '../src/cli/registry.js';
import type { CommandDef } from '../src/cli/define.js';
import { ROOT, cleanupTempDirs, runLtc, tempDir } from './helpers/cli.js';

afterAll(cleanupTempDirs);

const GLOBAL_FLAGS = ['--config', '--env', '--json', '--yes', '--approve', '--dry-run', '--verbose', '--debug', '--no-color', '--help', '-h', '--version', '-V'];

/** `--rc <tag>` → `--rc`; `-f, --force` → both. */
function flagNames(flags: string): string[] {
  return flags.split(/[ ,|]+/).filter((w) => w.startsWith('-'));
}

interface Block {
  file: string;
  line: number;
  lang: string;
  text: string;
}

function fencedBlocks(file: string, markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    blocks.push({ file, line: start + 1, lang: open[1] ?? '', text: body.join('\n') });
  }
  return blocks;
}

/** Words of a shell line, quotes respected; a trailing `# comment` dropped. */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(#.*$)|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[3] !== undefined) break;
    words.push(m[1] ?? m[2] ?? m[4]!);
  }
  return words;
}

async function guides(): Promise<{ file: string; text: string }[]> {
  const files = ['README.md', ...(await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md') && f !== 'HELPERS.md').map((f) => `docs/${f}`)];
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(join(ROOT, file), 'utf8') })));
}

describe('the reference in docs/reference is generated from the code', () => {
  it('every generated page is committed as generated (run `npm run docs`)', async () => {
    const docs = await generateDocs();
    expect(docs.length).toBeGreaterThan(10);
    for (const d of docs) {
      const committed = await readFile(join(ROOT, d.file), 'utf8').catch(() => '(missing)');
      expect(committed, `${d.file} is stale: run \`npm run docs\``).toBe(d.text);
    }
    const pages = (await readdir(join(ROOT, 'docs/reference/commands'))).map((f) => `docs/reference/commands/${f}`);
    expect(pages.sort(), 'a page for a command that no longer exists: run `npm run docs`').toEqual(docs.filter((d) => d.file.startsWith('docs/reference/commands/')).map((d) => d.file).sort());
  });

  it("the README's command table is the generated one and the README is at most 250 lines", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    expect(readme, 'README command table is stale: run `npm run docs`').toBe(await readmeWithTable(readme));
    expect(readme).toContain('](docs/reference/commands/deploy.md)');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
  });

  it('a command option added without regenerating makes the reference stale', async () => {
    const groups = await loadGroups();
    const deploy = groups.flatMap((g) => g.commands).find((c) => c.path.join(' ') === 'deploy')!;
    const page = (await generateDocs()).find((d) => d.file === 'docs/reference/commands/deploy.md')!;
    deploy.options = [...(deploy.options ?? []), { flags: '--brand-new <x>', description: 'an option nobody documented' }];
    try {
      const after = (await generateDocs()).find((d) => d.file === 'docs/reference/commands/deploy.md')!;
      expect(after.text).not.toBe(page.text);
      expect(after.text).toContain('--brand-new <x>');
    } finally {
      deploy.options = deploy.options.slice(0, -1);
    }
  });

  it('a command line starting with a command registers the group that defines it (and only that one)', async () => {
    const all = await loadGroups();
    for (const group of all) {
      for (const def of group.commands) {
        const loaded = await loadGroups(def.path[0]);
        expect(loaded.map((g) => g.name), def.path.join(' ')).toEqual([group.name]);
      }
    }
    expect((await loadGroups('nonsense')).length).toBe(all.length);
    expect((await loadGroups('--env')).length).toBe(all.length);
  });

  it('`ltc <command> --help --json` and the reference page list the same options', async () => {
    const defs = (await loadGroups()).flatMap((g) => g.commands);
    const docs = new Map((await generateDocs()).map((d) => [d.file, d.text]));
    for (let i = 0; i < defs.length; i += 8) {
      await Promise.all(
        defs.slice(i, i + 8).map(async (def) => {
          const r = await runLtc([...def.path, '--help', '--json']);
          expect(r.code, def.path.join(' ')).toBe(0);
          const help = r.json as { options: { flags: string }[]; description: string };
          const page = docs.get(`docs/reference/commands/${def.path.join('-')}.md`)!;
          expect(page, def.path.join(' ')).toContain(def.description);
          expect(help.description).toBe(def.description);
          for (const o of help.options) expect(page, `${def.path.join(' ')} ${o.flags}`).toContain(`\`${o.flags.replace(/\|/g, '\\|')}\``);
          expect(help.options.length).toBe(def.options?.length ?? 0);
        }),
      );
    }
  });
});

describe('examples in the README and the guides', () => {
  it('every `ltc …` command line names a real command and only its own or global flags', async () => {
    const defs = (await loadGroups()).flatMap((g) => g.commands);
    const byPath = new Map<string, CommandDef>(defs.map((d) => [d.path.join(' '), d]));
    const problems: string[] = [];
    let checked = 0;
    for (const g of await guides()) {
      for (const b of fencedBlocks(g.file, g.text)) {
        if (!['', 'sh', 'bash', 'console', 'shell'].includes(b.lang)) continue;
        b.text.split('\n').forEach((raw, k) => {
          const line = raw.replace(/^\$ /, '').trim();
          if (!line.startsWith('ltc ')) return;
          const words = shellWords(line).slice(1);
          const where = `${g.file}:${b.line + k + 1}: ${line}`;
          let def: CommandDef | undefined;
          for (let n = Math.min(3, words.length); n > 0 && !def; n--) def = byPath.get(words.slice(0, n).join(' '));
          if (words[0] === 'help' || words[0] === '--help' || words[0] === '--version') return;
          if (!def) return void problems.push(`${where}: no such command`);
          const allowed = new Set([...GLOBAL_FLAGS, ...(def.options ?? []).flatMap((o) => flagNames(o.flags))]);
          for (const w of words) {
            if (w === '|' || w === '&&' || w === ';' || w === '>' || w === '2>&1') break;
            if (!w.startsWith('-') || /^-\d/.test(w)) continue;
            const name = w.startsWith('--') ? w.split('=')[0]! : w;
            if (!allowed.has(name)) problems.push(`${where}: ${def.path.join(' ')} has no option ${name}`);
          }
          checked++;
        });
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('every YAML example parses; complete configs pass `ltc config validate`, complete runbooks `ltc runbook validate`', async () => {
    const dir = await tempDir();
    const problems: string[] = [];
    let validated = 0;
    let n = 0;
    for (const g of await guides()) {
      for (const b of fencedBlocks(g.file, g.text)) {
        if (b.lang !== 'yaml' && b.lang !== 'yml') continue;
        const where = `${g.file}:${b.line}`;
        let doc: unknown;
        try {
          doc = parseYaml(b.text);
        } catch (err) {
          problems.push(`${where}: ${(err as Error).message.split('\n')[0]}`);
          continue;
        }
        if (!doc || typeof doc !== 'object') continue;
        const keys = Object.keys(doc);
        const file = join(dir, `example-${n++}.yaml`);
        await writeFile(file, b.text);
        let r;
        if (keys.includes('app') && keys.includes('environments')) r = await runLtc(['config', 'validate', '--config', file], { cwd: dir });
        else if (keys.includes('steps') && keys.includes('name')) r = await runLtc(['runbook', 'validate', file], { cwd: dir, env: { LTC_CONFIG: '' } });
        else continue;
        validated++;
        if (r.code !== 0) problems.push(`${where}: exit ${r.code}: ${r.stderr.trim().split('\n').slice(0, 3).join(' / ')}`);
      }
    }
    expect(problems).toEqual([]);
    expect(validated).toBeGreaterThan(0);
  });
});
