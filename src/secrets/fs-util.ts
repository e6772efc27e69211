/** Moved to src/core/fs-atomic.ts; kept until the branches that import it here have merged. */
export { withLock, writeFileAtomic } from '../core/fs-atomic.js';
