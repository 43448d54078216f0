export { makeToken } from './dev-auth';
export { startAll, startProcess, startServe, startWorker } from './processes';
export type { ProcessKind, RunningService } from './process';
