/**
 * What can be read of a local deploy root without changing it — the releases, the links, the app's
 * state and the history — for `ltc releases` (and its fast path, which loads nothing else) and as
 * the base of the local target, which adds everything that changes the root.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { LocalTargetConfig } from '../../config/schema/target.js';
import { releaseLayout, type ReleaseLayout } from '../layout.js';
import { releaseProcesses, sameProcess } from '../proc.js';
import { parseRevisionLine } from '../revision-line.js';
import type { AppStatus, ReleaseInfo, RevisionRecord } from '../target.js';
import { appState, readPidFile } from './pid-file.js';
import { listReleaseDirs, readReleaseLink } from './releases.js';
import { isMissing, withPath } from '../../core/fs-missing.js';
import { linesFromEnd } from '../../core/tail.js';

export interface LocalTargetOptions {
  /** Resolved deploy_root (absolute). */
  root: string;
  config: LocalTargetConfig;
  /** Resolved log_file, when set. */
  logFile?: string;
  /** The environment name, for lock messages. */
  environment: string;
}

export class LocalReleases {
  readonly kind = 'local' as const;
  readonly root: string;
  readonly description: string;
  readonly paths: ReleaseLayout;
  protected readonly config: LocalTargetConfig;
  protected readonly environment: string;

  constructor(o: LocalTargetOptions) {
    this.root = o.root;
    this.config = o.config;
    this.environment = o.environment;
    this.description = `local ${o.root}`;
    this.paths = releaseLayout(o.root, o.logFile);
  }

  async listReleases(): Promise<ReleaseInfo[]> {
    return listReleaseDirs(this.paths.releases, await this.readCurrent(), await this.readPrevious());
  }

  readCurrent(): Promise<string | undefined> {
    return readReleaseLink(this.paths.current);
  }

  readPrevious(): Promise<string | undefined> {
    return readReleaseLink(this.paths.previous);
  }

  async status(): Promise<AppStatus> {
    if (this.config.service) return { mode: 'service', running: false, logFile: this.paths.logFile };
    const rec = await readPidFile(this.paths.pidFile);
    const state = rec ? appState(rec, this.paths.releases) : 'gone';
    if (!rec || state === 'gone') {
      // Running without a pid file (ltc killed between the start and writing it)?
      const found = releaseProcesses(this.paths.releases, this.environment);
      if (found.length) {
        const { readlinkSync } = await import('node:fs');
        const cwd = (() => {
          try {
            return readlinkSync(`/proc/${found[0]!.pid}/cwd`);
          } catch {
            return '';
          }
        })();
        return { mode: 'supervised', running: true, pid: found[0]!.pid, release: basename(cwd), unrecorded: found.map((p) => p.pid), pidFile: this.paths.pidFile, logFile: this.paths.logFile };
      }
    }
    if (!rec) return { mode: 'supervised', running: false, pidFile: this.paths.pidFile, logFile: this.paths.logFile };
    return {
      mode: 'supervised',
      running: state !== 'gone',
      pid: rec.pid,
      release: rec.release,
      startedAt: rec.startedAt,
      ...(state === 'gone' ? { stale: true, ...(sameProcess(rec.pid, rec.procStart) ? { elsewhere: true } : {}) } : {}),
      pidFile: this.paths.pidFile,
      logFile: this.paths.logFile,
    };
  }

  async readRevisions(): Promise<RevisionRecord[]> {
    let text: string;
    try {
      text = await readFile(this.paths.revisions, 'utf8');
    } catch (err) {
      if (isMissing(err)) return [];
      throw withPath(err, this.paths.revisions);
    }
    const out: RevisionRecord[] = [];
    for (const line of text.split('\n')) {
      const record = parseRevisionLine(line);
      if (record) out.push(record);
    }
    return out;
  }

  async *revisionsNewestFirst(): AsyncGenerator<RevisionRecord> {
    for await (const line of linesFromEnd(this.paths.revisions)) {
      const record = parseRevisionLine(line);
      if (record) yield record;
    }
  }
}
