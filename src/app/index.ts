export { buildCore, type Core, type CoreDeps } from './core';
export { makeToken } from './dev-auth';
export { startAll, startProcess, startServe, startWorker } from './processes';
export type { ProcessKind, RunningService } from './process';
export { createService, type Service, type ServiceDeps } from './service';
