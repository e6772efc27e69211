import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { childEnv } from '../exec/child-env.js';

let cached: Promise<string> | undefined;

/** Who is acting: git `user.email`, else the OS user. */
export function currentActor(): Promise<string> {
  cached ??= new Promise((resolve) => {
    execFile('git', ['config', '--get', 'user.email'], { timeout: 2000, env: childEnv(process.env, undefined, 'git') }, (err, stdout) => {
      const email = stdout?.trim();
      if (!err && email) return resolve(email);
      try {
        resolve(userInfo().username);
      } catch {
        resolve(process.env.USER ?? 'unknown');
      }
    });
  });
  return cached;
}
