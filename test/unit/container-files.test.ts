import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * No Docker engine runs here, so the container files are checked statically: hadolint
 * for the Dockerfile, the compose-spec JSON schema for docker-compose.yml (both installed
 * by scripts/bootstrap.d/lint-tools.sh).
 */
const run = promisify(execFile);
const venv = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'livekit-recorder', 'venv', 'bin');
const root = path.join(__dirname, '..', '..');

describe('container files', () => {
  it('the Dockerfile passes hadolint', async () => {
    const { stdout } = await run(path.join(venv, 'hadolint'), ['--no-color', 'Dockerfile'], { cwd: root });
    expect(stdout).toBe('');
  });

  it('docker-compose.yml is valid against the compose specification', async () => {
    const { stdout } = await run(path.join(venv, 'check-jsonschema'), ['--builtin-schema', 'vendor.compose-spec', 'docker-compose.yml'], {
      cwd: root,
    });
    expect(stdout).toContain('ok');
  });
});
