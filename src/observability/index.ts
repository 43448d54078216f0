export { createLogger, REDACT_PATHS, type Logger } from './logger';
export { Metrics, type MetricsSources } from './metrics';
export { runChecks, type HealthCheck, type ReadinessResult } from './health';
