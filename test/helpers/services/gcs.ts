import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../ports';
import { spawnOwned, toolCacheDir, waitForHttp, type StartedEmulator } from './s3';

/**
 * A GCS emulator for the tests: fake-gcs-server (built by
 * scripts/bootstrap.d/storage-emulators.sh), or gcp-storage-emulator from the venv when
 * that build failed. Objects live in `dataDir`, so a restart on the same port and
 * directory finds them again. A throwaway service-account key is published for V4
 * signed URLs (the emulator does not check signatures; the client needs a key to make them).
 */

export interface GcsEmulatorOptions {
  port?: number;
  buckets?: string[];
  /** Where objects are kept; default a new temp dir (removed by stop() if we made it). */
  dataDir?: string;
}

export const TEST_GCS_BUCKET = 'test-recordings';

let cachedCredentials: string | undefined;
/** A service-account JSON with a freshly generated RSA key (nothing in the cloud knows it). */
export function dummyServiceAccount(): string {
  if (!cachedCredentials) {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    cachedCredentials = JSON.stringify({
      type: 'service_account',
      project_id: 'test-project',
      private_key_id: crypto.randomBytes(8).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: 'recorder-test@test-project.iam.gserviceaccount.com',
      client_id: '1',
      token_uri: 'http://127.0.0.1:9/token',
    });
  }
  return cachedCredentials;
}

function gcsBinary(): { bin: string; kind: 'fake-gcs-server' | 'gcp-storage-emulator' } {
  const explicit = process.env.FAKE_GCS_SERVER_BIN;
  if (explicit) return { bin: explicit, kind: 'fake-gcs-server' };
  const py = path.join(toolCacheDir(), 'venv', 'bin', 'gcp-storage-emulator');
  // TEST_GCS_EMULATOR=gcp-storage-emulator forces the fallback emulator
  if (process.env.TEST_GCS_EMULATOR !== 'gcp-storage-emulator' && fs.existsSync('/usr/local/bin/fake-gcs-server')) {
    return { bin: '/usr/local/bin/fake-gcs-server', kind: 'fake-gcs-server' };
  }
  if (fs.existsSync(py)) return { bin: py, kind: 'gcp-storage-emulator' };
  return { bin: 'fake-gcs-server', kind: 'fake-gcs-server' };
}

export async function start(opts: GcsEmulatorOptions = {}): Promise<StartedEmulator & { dataDir: string }> {
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fake-gcs-'));
  const buckets = opts.buckets ?? [TEST_GCS_BUCKET];
  const { bin, kind } = gcsBinary();
  const args =
    kind === 'fake-gcs-server'
      ? ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(port), '-external-url', endpoint, '-public-host', `127.0.0.1:${port}`,
         '-backend', 'filesystem', '-filesystem-root', dataDir, '-log-level', 'error']
      : ['start', '--host', '127.0.0.1', '--port', String(port), '--default-bucket', buckets[0]];
  // gcp-storage-emulator keeps its objects in ./.cloudstorage of its working directory
  const proc = spawnOwned(bin, args, kind, dataDir);
  try {
    await waitForHttp(`${endpoint}/storage/v1/b?project=test-project`, 20000, proc.child);
    for (const name of buckets) {
      const res = await fetch(`${endpoint}/storage/v1/b?project=test-project`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (!res.ok && res.status !== 409) throw new Error(`create bucket ${name}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
    }
  } catch (err) {
    await proc.stop();
    throw new Error(`GCS emulator did not start: ${(err as Error).message}\n${proc.stderr()}`);
  }
  return {
    port,
    endpoint,
    dataDir,
    pid: proc.child.pid!,
    env: {
      TEST_GCS_ENDPOINT: endpoint,
      TEST_GCS_BUCKET: buckets[0],
      TEST_GCS_CREDENTIALS: dummyServiceAccount(),
    },
    async stop() {
      await proc.stop();
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
