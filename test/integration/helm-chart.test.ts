import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * The Helm chart (deploy/helm/livekit-recorder), linted and rendered by a real helm (built by
 * scripts/bootstrap) with its default values and with the scaled-out values of ci/; the
 * manifests are parsed and checked for what the service needs on Kubernetes.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const CHART = path.join(ROOT, 'deploy', 'helm', 'livekit-recorder');
const SCALED_OUT = path.join(CHART, 'ci', 'scaled-out-values.yaml');
/** What the chart sets itself rather than from `config` or `secrets`. */
const CHART_SET = ['HOST', 'PORT', 'WORKER_STATUS_HOST', 'WORKER_STATUS_PORT', 'RECORDING_OUTPUT_DIR'];

function helmBinary(): string {
  for (const candidate of ['helm', '/usr/local/bin/helm']) {
    if (spawnSync(candidate, ['version', '--short'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error('helm not found: scripts/bootstrap builds it (scripts/bootstrap.d/helm.sh)');
}
const helm = helmBinary();

function run(args: string[]): { status: number | null; out: string } {
  const res = spawnSync(helm, args, { encoding: 'utf8', cwd: ROOT });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; stringData?: Record<string, string> };

function render(...extra: string[]): Manifest[] {
  const out = execFileSync(helm, ['template', 'rel', CHART, '--namespace', 'rec', ...extra], { encoding: 'utf8' });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}

function find(ms: Manifest[], kind: string, name: string): Manifest {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  if (!m) throw new Error(`no ${kind} ${name} in: ${ms.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return m;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const container = (d: Manifest): any => d.spec.template.spec.containers[0];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const envOf = (d: Manifest): Map<string, any> => new Map(container(d).env.map((e: { name: string }) => [e.name, e]));

describe('the Helm chart', () => {
  it('lints with its default values and with the scaled-out values', () => {
    for (const args of [['lint', '--strict', CHART], ['lint', '--strict', CHART, '-f', SCALED_OUT]]) {
      const res = run(args);
      expect({ args: args.slice(-1)[0], status: res.status, out: res.status === 0 ? '' : res.out }).toEqual({ args: args.slice(-1)[0], status: 0, out: '' });
    }
  });

  describe('rendered with its default values', () => {
    const ms = render();
    const worker = find(ms, 'Deployment', 'rel-livekit-recorder-worker');
    const api = find(ms, 'Deployment', 'rel-livekit-recorder-api');

    it('runs the API behind a Service, probed on /healthz and /readyz', () => {
      expect(container(api).args).toEqual(['serve']);
      const svc = find(ms, 'Service', 'rel-livekit-recorder-api');
      expect(svc.spec.selector).toEqual(api.spec.selector.matchLabels);
      expect(svc.spec.ports[0]).toMatchObject({ port: 8080, targetPort: 'http' });
      expect(container(api).ports[0]).toEqual({ name: 'http', containerPort: 8080 });
      expect(container(api).readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(container(api).livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(envOf(api).get('HOST').value).toBe('0.0.0.0');
      expect(envOf(api).get('PORT').value).toBe('8080');
    });

    it('runs workers with a disruption budget, a grace for their shutdown, /dev/shm and capacity readiness', () => {
      expect(container(worker).args).toEqual(['worker']);
      const pdb = find(ms, 'PodDisruptionBudget', 'rel-livekit-recorder-worker');
      expect(pdb.spec.selector.matchLabels).toEqual(worker.spec.selector.matchLabels);
      expect(pdb.spec.maxUnavailable).toBe(1);
      // POSTPROCESS_SHUTDOWN_GRACE_SECONDS (60 by default) + 60 s to stop recordings and close
      expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBe(120);
      const shm = worker.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'dshm');
      expect(shm.emptyDir).toEqual({ medium: 'Memory', sizeLimit: '1Gi' });
      expect(container(worker).volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
      expect(container(worker).ports[0]).toEqual({ name: 'status', containerPort: 9090 });
      expect(container(worker).readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'status' });
      expect(container(worker).livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'status' });
      expect(envOf(worker).get('WORKER_STATUS_PORT').value).toBe('9090');
      expect(envOf(worker).get('WORKER_STATUS_HOST').value).toBe('0.0.0.0');
      expect(envOf(worker).get('RECORDER_CPU_BUDGET').value).toBe('1.7');
      // sized from the measured cost: about 5 recordings of 0.27-0.33 cores in 2 cores
      expect(container(worker).resources.requests).toEqual({ cpu: '2', memory: '3Gi' });
      // Prometheus must see full (not ready) workers too
      expect(find(ms, 'Service', 'rel-livekit-recorder-worker').spec.publishNotReadyAddresses).toBe(true);
      expect(ms.some((m) => m.kind === 'HorizontalPodAutoscaler')).toBe(false);
    });

    it('takes the database, Redis and the other secrets from the chart\'s Secret', () => {
      const secret = find(ms, 'Secret', 'rel-livekit-recorder');
      expect(Object.keys(secret.stringData!)).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'RECORDING_URL_SIGNING_SECRET']));
      for (const d of [api, worker]) {
        for (const name of ['DATABASE_URL', 'REDIS_URL', 'LIVEKIT_API_SECRET', 'AUTH_JWT_SECRET']) {
          expect(envOf(d).get(name)).toEqual({ name, valueFrom: { secretKeyRef: { name: 'rel-livekit-recorder', key: name, optional: true } } });
        }
      }
    });
  });

  describe('rendered with the scaled-out values', () => {
    const ms = render('-f', SCALED_OUT);
    const worker = find(ms, 'Deployment', 'rel-livekit-recorder-worker');

    it('uses the given Secret, the shared volume and the workers\' own settings', () => {
      expect(ms.some((m) => m.kind === 'Secret')).toBe(false);
      expect(envOf(worker).get('DATABASE_URL').valueFrom.secretKeyRef.name).toBe('recorder-secrets');
      expect(envOf(worker).get('RECORDER_CPU_BUDGET').value).toBe('3.4');
      expect(envOf(worker).get('RECORDING_STORAGE_PROVIDER').value).toBe('aws');
      const api = find(ms, 'Deployment', 'rel-livekit-recorder-api');
      expect(envOf(api).has('RECORDER_CPU_BUDGET')).toBe(false);
      for (const d of [api, worker]) {
        expect(d.spec.template.spec.volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim).toEqual({ claimName: 'recorder-shared' });
      }
      // POSTPROCESS_SHUTDOWN_GRACE_SECONDS=300 + 60
      expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBe(360);
      expect(find(ms, 'PodDisruptionBudget', 'rel-livekit-recorder-worker').spec.maxUnavailable).toBe(2);
    });

    it('autoscales the workers on recorder_load_ratio, and leaves their count to the autoscaler', () => {
      const hpa = find(ms, 'HorizontalPodAutoscaler', 'rel-livekit-recorder-worker');
      expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'rel-livekit-recorder-worker' });
      expect(hpa.spec.metrics[0].pods).toEqual({ metric: { name: 'recorder_load_ratio' }, target: { type: 'AverageValue', averageValue: '0.7' } });
      expect({ min: hpa.spec.minReplicas, max: hpa.spec.maxReplicas }).toEqual({ min: 3, max: 30 });
      expect(worker.spec.replicas).toBeUndefined();
      const monitors = ms.filter((m) => m.kind === 'ServiceMonitor');
      expect(monitors.map((m) => m.spec.endpoints[0].port).sort()).toEqual(['http', 'status']);
    });
  });

  it('refuses a secret under config, and a setting the chart owns', () => {
    const secret = run(['template', 'rel', CHART, '--set', 'config.DATABASE_URL=postgresql://x']);
    expect(secret.status).not.toBe(0);
    expect(secret.out).toMatch(/DATABASE_URL is a secret/);
    const owned = run(['template', 'rel', CHART, '--set', 'worker.config.PORT=1']);
    expect(owned.status).not.toBe(0);
    expect(owned.out).toMatch(/PORT is set by the chart/);
  });

  it('maps every setting of src/config-env.ts from its values', () => {
    const source = fs.readFileSync(path.join(ROOT, 'src', 'config-env.ts'), 'utf8');
    const schema = source.slice(source.indexOf('export const envSchema = z.object({'), source.indexOf('\n});', source.indexOf('const envSchema')));
    const settings = [...schema.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
    expect(settings.length).toBeGreaterThan(40);
    const values = parseAllDocuments(fs.readFileSync(path.join(CHART, 'values.yaml'), 'utf8'))[0].toJS() as { config: object; secrets: object };
    const mapped = new Set([...Object.keys(values.config), ...Object.keys(values.secrets), ...CHART_SET]);
    expect(settings.filter((s) => !mapped.has(s))).toEqual([]);
  });
});
