import { ProcessPort, type ChildProcess, type SpawnOptions } from '../../src/exec/process.ts';

/**
 * A process port for in-process tests: records every start (argv and cwd) and refuses — throws,
 * before anything runs — a program the test did not allow, so an unexpected call fails the test.
 */
export class StrictProcesses extends ProcessPort {
  readonly started: { argv: string[]; cwd?: string }[] = [];
  readonly refused: string[][] = [];

  constructor(private readonly allow: (argv: readonly string[]) => boolean) {
    super();
  }

  override start(argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    if (!this.allow(argv)) {
      this.refused.push([...argv]);
      throw new Error(`unexpected process: ${argv.join(' ')}`);
    }
    this.started.push({ argv: [...argv], cwd: typeof opts.cwd === 'string' ? opts.cwd : undefined });
    return super.start(argv, opts);
  }
}
