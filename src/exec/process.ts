/**
 * The process port: the one module that imports node:child_process. Every process ltc starts
 * (commands, git, tar, ssh, pg_dump, the supervised app, lab servers) is started here, so whoever
 * must know the processes — the gates' exit guard that kills their groups on a hard exit, a test
 * that records or refuses calls — subscribes here instead of patching node.
 */
import type { ChildProcess, SpawnOptions, SpawnSyncOptions, SpawnSyncReturns } from 'node:child_process';

// Loaded on the first start: importing node:child_process costs ~10 ms, which a command that
// starts nothing (ltc releases, ltc secrets get) need not pay.
const childProcess = () => process.getBuiltinModule('node:child_process');

export type { ChildProcess, SpawnOptions };

export type StartListener = (child: ChildProcess, argv: readonly string[]) => void;

export class ProcessPort {
  private readonly listeners = new Set<StartListener>();

  /** Starts `argv[0]` with the rest as its arguments (never through a shell). */
  start(argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    if (!argv[0]) throw new Error('no program to start (empty argv)');
    const child = childProcess().spawn(argv[0], argv.slice(1), { ...opts, shell: false });
    for (const listener of this.listeners) listener(child, argv);
    return child;
  }

  /** Runs to the end, blocking (only for setup outside any command's hot path). */
  runSync(argv: readonly string[], opts: SpawnSyncOptions = {}): SpawnSyncReturns<Buffer> {
    if (!argv[0]) throw new Error('no program to run (empty argv)');
    return childProcess().spawnSync(argv[0], argv.slice(1), { ...opts, shell: false, encoding: 'buffer' });
  }

  /** Calls `listener` with every process started from now on; returns the unsubscribe. */
  onStart(listener: StartListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

/** The port of this ltc process (handed to the Context by src/cli/main.ts). */
export const processes = new ProcessPort();
