export { createApp, type AppDeps } from './app';
export { Authenticator } from './auth';
export { buildOpenApiDocument } from './schemas';
