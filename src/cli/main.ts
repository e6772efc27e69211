import { noteOutputError } from '../core/output-failure.js';
import type { ProcessPort } from '../exec/process.js';
import { Command, CommanderError, Option } from 'commander';
import { commandAt, commandHelp, commandPath } from './help-json.js';
import { createContext, type Context, type GlobalOptions } from '../core/context.js';
import { EXIT_CODE_TABLE, ExitCode, InterruptedError, LtcError, UsageError, toLtcError } from '../core/errors.js';
import { processMasker } from '../core/masker.js';
import { registerCredentials } from '../exec/child-env.js';
import { Output, colorWanted, loadPalette, type Palette } from '../core/output.js';
import { Prompter } from '../ui/prompt.js';
import type { CommandDef, CommandResult } from './define.js';
import { loadGroups } from './registry.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../core/paths.js';
import { closest, didYouMean } from '../core/suggest.js';
import { printable } from '../core/printable.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * `--env ''` or `--config=` is a mistake (an unset shell variable), not "not given": taking the
 * default environment or config instead would act on the wrong one. `--env --json` took the next
 * option as its value.
 */
function givenValue(flag: '--env' | '--config', value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (text.trim() === '') {
    throw new UsageError(`${flag} was given an empty value`, {
      hint: flag === '--env' ? 'name the environment, e.g. --env staging (or leave out --env to use LTC_ENV or the only environment)' : 'give the config file, e.g. --config ops/ltc.config.yaml (or leave out --config)',
    });
  }
  if (text.startsWith('-')) {
    throw new UsageError(`${flag} needs a value, but was followed by the option ${JSON.stringify(text)}`, { hint: `its value goes right after it, e.g. ${flag === '--env' ? '--env staging' : '--config ltc.config.yaml'}` });
  }
  return text;
}

/**
 * `--env --config x`: commander took "--config" as the environment and then failed on the stray
 * "x" ("too many arguments"); the mistake to name is the --env without a value.
 */
function valueOptionMistake(argv: readonly string[]): LtcError | undefined {
  const end = argv.indexOf('--');
  const words = end >= 0 ? argv.slice(0, end) : argv;
  for (let i = 0; i < words.length - 1; i++) {
    const flag = words[i];
    if ((flag === '--env' || flag === '--config') && words[i + 1]!.startsWith('-')) {
      try {
        givenValue(flag, words[i + 1]);
      } catch (err) {
        return err as LtcError;
      }
    }
  }
  return undefined;
}

/** `--approve <step-id>` (repeatable): an empty id would approve nothing the user can see. */
function approvals(ids: string[] | undefined): string[] {
  for (const id of ids ?? []) {
    if (!id.trim() || id.startsWith('-')) {
      throw new UsageError(`--approve needs a step id${id.trim() ? `, but was followed by the option ${JSON.stringify(id)}` : ' (it was given an empty one)'}`, { hint: 'e.g. --approve confirm-prod (the id of the confirm step the run names)' });
    }
  }
  return ids ?? [];
}

function globalOptionsFrom(raw: Record<string, unknown>, env: NodeJS.ProcessEnv, isTTY: boolean): GlobalOptions {
  return {
    config: givenValue('--config', raw.config),
    env: givenValue('--env', raw.env) ?? (env.LTC_ENV || undefined),
    json: raw.json === true,
    yes: raw.yes === true,
    dryRun: raw.dryRun === true,
    verbose: raw.verbose === true,
    debug: raw.debug === true,
    color: colorWanted(raw.color !== false, env, isTTY),
    approve: approvals(raw.approve as string[] | undefined),
  };
}

function addGlobalOptions(program: Command): void {
  program
    .option('--config <file>', 'config file (default: ltc.config.yaml found upward, or LTC_CONFIG)')
    .option('--env <name>', 'environment (or LTC_ENV)')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--yes', 'answer yes to every confirmation')
    .option('--approve <step-id>', 'approve one confirmation by its id (repeatable)', collect)
    .option('--dry-run', 'print what would happen and change nothing')
    .option('--verbose', 'stream what steps print')
    .option('--debug', 'debug logs and stack traces')
    .option('--no-color', 'no colours (also NO_COLOR)');
}

interface RunState {
  result?: CommandResult;
  ctx?: Context;
}

function register(program: Command, def: CommandDef, state: RunState, makeContext: (cmd: Command) => Promise<Context>): void {
  let parent = program;
  for (const word of def.path.slice(0, -1)) {
    parent = parent.commands.find((c) => c.name() === word) ?? parent.command(word);
  }
  const cmd = parent.command(def.path.at(-1)!).description(def.description);
  for (const arg of def.args ?? []) {
    const name = `${arg.name}${arg.variadic ? '...' : ''}`;
    cmd.argument(arg.required ? `<${name}>` : `[${name}]`, arg.description);
  }
  for (const opt of def.options ?? []) {
    const option = new Option(opt.flags, opt.description);
    if (opt.repeatable) option.argParser(collect);
    if (opt.default !== undefined) option.default(opt.default);
    cmd.addOption(option);
  }
  if (def.examples?.length) cmd.addHelpText('after', `\nExamples:\n${def.examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  cmd.action(async (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    const args: Record<string, unknown> = {};
    (def.args ?? []).forEach((a, i) => (args[a.name] = params[i]));
    const ctx = await makeContext(command);
    state.ctx = ctx;
    const result = await def.handler({ args: args as never, options: command.opts() as never }, ctx);
    state.result = result ?? {};
  });
}

function buildProgram(): Command {
  const program = new Command('ltc')
    .description('Operations CLI for the LifeTimeCircle Service Heft 4.0: gates, deploys, rollbacks, secrets, runbooks')
    .option('-V, --version', 'print the version of ltc')
    .showSuggestionAfterError(true)
    .showHelpAfterError(false)
    .exitOverride();
  addGlobalOptions(program);
  program.helpCommand(false);
  program.configureHelp({ showGlobalOptions: true });
  return program;
}

/**
 * What a group without a description of its own (e.g. `secrets hook`) says in help: its one
 * command with that command's description, or the names of its commands.
 */
export function groupDescription(commands: readonly Command[]): string {
  const [only, ...more] = commands;
  if (only && !more.length) return `${only.name()}: ${only.description()}`;
  return `commands: ${commands.map((s) => s.name()).join(', ')}`;
}

/** Children first, so a group's description can use its commands' descriptions. */
function applyRecursively(cmd: Command, fn: (c: Command) => void): void {
  for (const sub of cmd.commands) applyRecursively(sub, fn);
  fn(cmd);
}

function exitCodesText(): string {
  return ['Exit codes:', ...EXIT_CODE_TABLE.map((r) => `  ${String(r.code).padStart(3)}  ${r.meaning}`)].join('\n');
}

/** The options a command accepts: its own and those of every group above it. */
function optionsOf(cmd: Command): Option[] {
  const options: Option[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) options.push(...c.options);
  return options;
}

/** The option name of what was typed: `--foo=value` → `--foo`, `-xvalue` → `-x`. The value is never kept. */
export function optionName(typed: string): string {
  if (typed.startsWith('--')) return typed.split('=')[0]!;
  return typed.slice(0, 2);
}

/**
 * Commander's parse errors as ltc usage errors (exit 2). They never repeat a value the user
 * typed (a surplus argument or the value of `--opt=value` may be a secret): only option names,
 * command names and counts. `cmd` is the command whose parse failed, when known.
 */
export function fromCommanderError(err: CommanderError, cmd?: Command): LtcError {
  const where = cmd ? commandPath(cmd) : 'ltc';
  const helpHint = `see \`${where} --help\``;
  if (err.code === 'commander.excessArguments') {
    // "too many arguments for 'x'. Expected N arguments but got M: <the arguments>." — keep the counts only.
    const counts = /Expected (\d+) arguments? but got (\d+)/.exec(err.message);
    const expected = Number(counts?.[1] ?? cmd?.registeredArguments.length ?? 0);
    const got = counts?.[2] ?? 'more';
    return new UsageError(`too many arguments for \`${where}\`: expected ${expected} argument${expected === 1 ? '' : 's'} but got ${got}.`, {
      hint: `${helpHint} for what it takes (the arguments are not repeated here: they may be secrets)`,
    });
  }
  if (err.code === 'commander.unknownOption') {
    const typed = err.message
      .replace(/^error: unknown option '/, '')
      .replace(/'(?:\n\(Did you mean [^\n]*\?\))?$/, '');
    const name = optionName(typed);
    const options = cmd ? optionsOf(cmd) : [];
    const known = options.find((o) => o.long === name || o.short === name);
    if (known && !known.required && !known.optional && typed !== name) {
      return new UsageError(`option '${name}' takes no value`, { hint: `write ${name} alone (the value given is not repeated here)` });
    }
    const longs = [...options.filter((o) => o.long && !o.hidden).map((o) => o.long!), '--help'];
    const guess = name.startsWith('--') ? closest(name, longs) : undefined;
    return new UsageError(`unknown option '${name}'`, { hint: guess ? `did you mean ${guess}?` : `${helpHint} for its options` });
  }
  if (err.code === 'commander.invalidArgument') {
    // "option '<flags>' argument '<value>' is invalid. …" / "command-argument value '<value>' is invalid for argument '<name>'. …"
    const option = /^error: option '([^']+)' argument /.exec(err.message)?.[1];
    const argument = /is invalid for argument '([^']+)'/.exec(err.message)?.[1];
    const what = option ? `option '${option}'` : argument ? `argument '${argument}'` : 'an argument';
    return new UsageError(`invalid value for ${what}`, { hint: helpHint });
  }
  const unknownWord = err.code === 'commander.unknownCommand' ? /unknown command '([^']*)'/.exec(err.message)?.[1] : undefined;
  if (unknownWord?.startsWith('-')) {
    // `ltc -- --help`: after `--` every word is an argument, so the option became a command name.
    return new UsageError(`unknown command '${unknownWord}': after \`--\` every word is taken as an argument, not an option`, { hint: `write options before \`--\`; \`${where} --help\` lists the commands` });
  }
  const [first = err.message, ...rest] = err.message.split('\n');
  const suggestion = rest.join(' ').match(/\(Did you mean (.+)\?\)/);
  return new UsageError(first.replace(/^error: /, ''), {
    hint: suggestion ? `did you mean ${suggestion[1]}?` : cmd?.parent ? helpHint : 'see `ltc --help` or `ltc <command> --help`',
  });
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Words of argv that are not options (a rough split; good enough to find the command path). */
function commandWords(argv: string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    words.push(a);
  }
  return words;
}
const VALUE_OPTIONS = new Set(['--config', '--env', '--approve']);

/**
 * `ltc deplyo --help`: commander would print the parent's help and exit 0, which fools a script
 * that checks whether a command exists. The first word that names no subcommand is a usage error.
 */
function unknownCommandInHelp(program: Command, argv: string[]): LtcError | undefined {
  let target = program;
  for (const word of commandWords(argv)) {
    if (target.commands.length === 0) return undefined;
    const next = target.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) {
      const names = target.commands.map((c) => c.name());
      const where = commandPath(target);
      return new UsageError(`unknown command '${word}'${target === program ? '' : ` for \`${where}\``}`, {
        hint: didYouMean(word, names) ?? `\`${where} --help\` lists the commands`,
      });
    }
    target = next;
  }
  return undefined;
}

/** `ltc config` (a group without its subcommand): exit 2 naming the subcommands. */
function missingSubcommand(program: Command, argv: string[]): LtcError {
  const target = commandAt(program, commandWords(argv));
  const subs = target.commands.map((c) => c.name());
  const where = commandPath(target);
  return new UsageError(`${where} needs a command: ${subs.join(', ')}`, {
    hint: `e.g. \`${where} ${subs[0] ?? '<command>'} --help\`; \`${where} --help\` lists them`,
  });
}

function renderError(out: Output, err: LtcError, debug: boolean): void {
  if (out.json) {
    out.writeJson({ ok: false, error: { code: err.code, message: err.message, hint: err.hint, ...(err.details ?? {}) } });
  } else {
    // What an error repeats (a typed name, a stored value, an app's log lines) cannot steer the terminal.
    out.error(`error: ${printable(err.message)}`);
    if (err.hint) out.info(`hint: ${printable(err.hint)}`);
  }
  if (debug && err.stack) out.info(err.stack + (err.cause instanceof Error && err.cause.stack ? `\ncaused by: ${err.cause.stack}` : ''));
}

/** Where one run of ltc reads and writes: the process by default, buffers in the in-process test tier. */
export interface MainIO {
  cwd: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdinIsTTY: boolean;
  /** Own SIGINT/SIGTERM/SIGHUP and EPIPE handling (only the real process). */
  processHooks: boolean;
  /** Where child processes start (default: this process's port; tests give a recording one). */
  processes?: ProcessPort;
}

function processIO(): MainIO {
  return { cwd: process.cwd(), stdout: process.stdout, stderr: process.stderr, stdinIsTTY: Boolean(process.stdin.isTTY), processHooks: true };
}

/** Runs ltc with the given arguments; returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: MainIO = processIO()): Promise<number> {
  // ltc's own credentials (LTC_MASTER_KEY, VAULT_TOKEN, AWS_*, …) are masked whatever command runs.
  registerCredentials(env, processMasker);
  const isTTY = Boolean(io.stdout.isTTY && io.stdinIsTTY);
  const ci = env.CI === 'true' || env.CI === '1';
  // Flags after `--` are arguments, not flags (`ltc releases -- --json` is a usage error in text).
  const flags = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
  const earlyJson = flags.includes('--json');
  const earlyDebug = flags.includes('--debug');
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    controller.abort(new Error(`interrupted by ${sig}`));
  };
  if (io.processHooks) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A closed terminal or a dropped SSH session: end what runs as on Ctrl-C, instead of leaving it without an owner.
    process.on('SIGHUP', onSignal);
    // `ltc deploy | head`, a full disk: the output is given up, never the deploy (src/core/output-failure.ts).
    process.stdout.on('error', (err: NodeJS.ErrnoException) => noteOutputError(err, 'stdout'));
    process.stderr.on('error', (err: NodeJS.ErrnoException) => noteOutputError(err, 'stderr'));
  }

  const state: RunState = {};
  const failedIn = new WeakMap<CommanderError, Command>();
  let helpText = '';
  let helpData: object | undefined;
  const program = buildProgram();
  const makeContext = async (cmd: Command): Promise<Context> => {
    const options = globalOptionsFrom(cmd.optsWithGlobals(), env, Boolean(io.stdout.isTTY));
    const palette: Palette = await loadPalette(options.color);
    const out = new Output({ json: options.json, color: options.color, verbose: options.verbose, debug: options.debug, masker: processMasker, palette, stdout: io.stdout, stderr: io.stderr });
    return createContext({
      cwd: io.cwd,
      argv,
      env,
      options,
      out,
      masker: processMasker,
      prompt: new Prompter({ interactive: isTTY && !ci, yes: options.yes, approvals: new Set(options.approve), signal: controller.signal }),
      signal: controller.signal,
      isTTY,
      ci,
      processes: io.processes ?? (await import('../exec/process.js')).processes,
    });
  };

  for (const group of await loadGroups(argv[0])) {
    for (const def of group.commands) register(program, def, state, makeContext);
    // A group that is itself a command (init, deploy) keeps its command's description for its
    // own --help; the group's line is the summary in `ltc --help`.
    const top = program.commands.find((c) => c.name() === group.name);
    if (top?.commands.length) top.description(group.description);
    else top?.summary(group.description);
  }
  program
    .command('help [topic...]')
    .description('help for a command, or `ltc help exit-codes`')
    .action((topic: string[] = []) => {
      if (topic.join(' ') === 'exit-codes') {
        helpText = exitCodesText();
        helpData = { exitCodes: EXIT_CODE_TABLE };
      } else {
        let target: Command = program;
        for (const word of topic) {
          const next = target.commands.find((c) => c.name() === word);
          if (!next) {
            const topics = [...target.commands.map((c) => c.name()), ...(target === program ? ['exit-codes'] : [])];
            throw new UsageError(`no help topic "${topic.join(' ')}"`, {
              hint: didYouMean(word, topics) ?? 'try `ltc --help` or `ltc help exit-codes`',
            });
          }
          target = next;
        }
        helpText = target.helpInformation();
        helpData = commandHelp(target);
      }
    });
  program.addHelpText('after', `\n${exitCodesText()}\n\nRun \`ltc <command> --help\` for a command's flags and examples.`);
  applyRecursively(program, (c) => {
    if (!c.description() && c.commands.length) c.description(groupDescription(c.commands));
    // Remember which command failed to parse: its options and path make the error message.
    c.exitOverride((err) => {
      failedIn.set(err, c);
      throw err;
    });
    c.showSuggestionAfterError(true);
    c.configureOutput({ writeErr: () => undefined, writeOut: (s) => io.stdout.write(s) });
  });

  const fallbackOut = () =>
    state.ctx?.out ?? new Output({ json: earlyJson, color: false, verbose: false, debug: earlyDebug, masker: processMasker, stdout: io.stdout, stderr: io.stderr });

  try {
    if (argv.length === 0) argv = ['--help'];
    if ((argv.includes('--version') || argv.includes('-V')) && commandWords(argv).length === 0) {
      if (earlyJson) fallbackOut().writeJson({ ok: true, version: packageVersion() });
      else io.stdout.write(`${packageVersion()}\n`);
      return ExitCode.ok;
    }
    if (argv.includes('--help') || argv.includes('-h')) {
      const unknown = unknownCommandInHelp(program, argv);
      if (unknown) {
        renderError(fallbackOut(), unknown, earlyDebug);
        return ExitCode.usage;
      }
    }
    if (earlyJson && (argv.includes('--help') || argv.includes('-h'))) {
      fallbackOut().writeJson({ ok: true, ...commandHelp(commandAt(program, commandWords(argv))) });
      return ExitCode.ok;
    }
    await program.parseAsync(argv, { from: 'user' });
    if (helpText) {
      if (earlyJson && helpData) fallbackOut().writeJson({ ok: true, ...helpData });
      else io.stdout.write(helpText + '\n');
      return ExitCode.ok;
    }
    const result = state.result ?? {};
    const out = fallbackOut();
    const exitCode = result.exitCode ?? ExitCode.ok;
    if (out.json) out.writeJson({ ok: exitCode === 0, ...(result.data ?? {}) });
    else if (result.text) out.print(result.text);
    return exitCode;
  } catch (raw) {
    if (raw instanceof CommanderError) {
      if (raw.code === 'commander.helpDisplayed' || raw.code === 'commander.version') return ExitCode.ok;
      if (raw.code === 'commander.help') {
        if (raw.exitCode === 0) return ExitCode.ok;
        renderError(fallbackOut(), missingSubcommand(program, argv), earlyDebug);
        return ExitCode.usage;
      }
      renderError(fallbackOut(), valueOptionMistake(argv) ?? fromCommanderError(raw, failedIn.get(raw)), earlyDebug);
      return ExitCode.usage;
    }
    const err = controller.signal.aborted && !(raw instanceof LtcError) ? new InterruptedError() : toLtcError(raw);
    renderError(fallbackOut(), err, state.ctx?.options.debug ?? earlyDebug);
    return err.exitCode;
  } finally {
    if (io.processHooks) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('SIGHUP', onSignal);
    }
  }
}
