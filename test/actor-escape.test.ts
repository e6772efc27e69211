import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'ltc-actor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the actor from git user.email', () => {
  it('is escaped once where it is read: an escape sequence in user.email never reaches a record or a terminal', async () => {
    const config = join(dir, 'gitconfig');
    writeFileSync(config, '[user]\n\temail = "evil\\u001b[2J@example.org"\n'.replace('\\u001b', '\u001b'));
    process.env.GIT_CONFIG_GLOBAL = config;
    process.env.GIT_CONFIG_NOSYSTEM = '1';
    // Outside any repository: a checkout's own user.email would win over the global one.
    process.chdir(dir);
    const { currentActorId } = await import('../src/audit/actor.ts');
    const a = await currentActorId();
    expect(a.git_email).toBe('evil\\u001b[2J@example.org');
    expect(a.git_email).not.toContain('\u001b');
  });
});
