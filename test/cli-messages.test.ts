import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { groupDescription } from '../src/cli/main.js';
import { cleanupTempDirs, runLtc } from './helpers/cli.js';

afterAll(cleanupTempDirs);

describe('group descriptions in help', () => {
  it('a group with one command shows that command and what it does; with several, "commands: a, b"', () => {
    const one = new Command('hook');
    one.command('install').description('install a pre-commit hook');
    expect(groupDescription(one.commands)).toBe('install: install a pre-commit hook');
    const many = new Command('lock');
    many.command('status').description('who holds it');
    many.command('release').description('clear it');
    expect(groupDescription(many.commands)).toBe('commands: status, release');
  });

  it('ltc secrets --help describes the hook group by its one command', async () => {
    const r = await runLtc(['secrets', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}hook\s+install: install a git pre-commit hook/m);
    const hook = await runLtc(['secrets', 'hook', '--help']);
    expect(hook.stdout).toMatch(/^install: install a git pre-commit hook/m);
  });
});
