export { createApp, type AppDeps } from './app';
export { Authenticator } from './auth';
export { createService, type Service, type ServiceDeps } from './service';
export { buildOpenApiDocument } from './schemas';
