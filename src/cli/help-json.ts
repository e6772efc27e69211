import type { Command } from 'commander';

export interface CommandHelp {
  command: string;
  description: string;
  usage: string;
  arguments: { name: string; required: boolean; description: string }[];
  options: { flags: string; description: string }[];
  commands: { name: string; description: string }[];
  help: string;
}

/** The command the words name, as deep as they go (`deploy --rc x` → deploy). */
export function commandAt(program: Command, words: string[]): Command {
  let target = program;
  for (const word of words) {
    const next = target.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) break;
    target = next;
  }
  return target;
}

/** `ltc lock status`: the words that name a command. */
export function commandPath(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/** `ltc … --help --json`: the help as data, with the text help too. */
export function commandHelp(cmd: Command): CommandHelp {
  const path = commandPath(cmd);
  return {
    command: path,
    description: cmd.description(),
    usage: `${path} ${cmd.usage()}`,
    arguments: cmd.registeredArguments.map((a) => ({ name: a.name(), required: a.required, description: a.description })),
    options: cmd.options.filter((o) => !o.hidden).map((o) => ({ flags: o.flags, description: o.description })),
    commands: cmd.commands.map((c) => ({ name: c.name(), description: c.description() })),
    help: cmd.helpInformation(),
  };
}
