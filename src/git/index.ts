/** The git adapter: everything ltc does with the app repo. */
export { git, runGit, gitEnv, type GitOptions, type GitResult } from './git.js';
export { checkRefSyntax, validateRefName, validateRcName, isCommitSha, isFullSha } from './refs.js';
export {
  isRemoteUrl,
  checkRepoString,
  listRemoteRefs,
  tagNames,
  resolveTag,
  resolveRef,
  mirrorDirFor,
  ensureMirror,
  hasCommit,
  exportTree,
  archiveTree,
  removeTree,
  type RemoteRefs,
  type ResolvedRef,
} from './repo.js';
export { withLock, type LockOptions } from './lock.js';
