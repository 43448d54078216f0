import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SpoolFile, spoolWriteError } from '../../src/recorder/spool';

describe('spool file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'spool-'));
  });
  afterEach(() => fs.rm(dir, { recursive: true, force: true }));

  it('appends in call order even when writes are not awaited one by one', async () => {
    const spool = await SpoolFile.create(dir, 'rec1');
    const parts = Array.from({ length: 50 }, (_, i) => new Uint8Array(1000 + i).fill(i));
    await Promise.all(parts.map((p) => spool.append(p)));
    await spool.close();
    const bytes = await fs.readFile(spool.path);
    expect(bytes.length).toBe(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      expect(bytes[at]).toBe(p[0]);
      expect(bytes[at + p.length - 1]).toBe(p[0]);
      at += p.length;
    }
    expect(spool.chunks).toBe(50);
  });

  it('will not overwrite the spool of another recording with the same id', async () => {
    const first = await SpoolFile.create(dir, 'same');
    await first.append(new Uint8Array([1]));
    await expect(SpoolFile.create(dir, 'same')).rejects.toThrow(/EEXIST/);
    await first.close();
    expect((await fs.readFile(first.path)).length).toBe(1);
  });

  it('names a full disk as DISK_FULL', () => {
    const err = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    expect(spoolWriteError(err, '/x').code).toBe('DISK_FULL');
    expect(spoolWriteError(new Error('other'), '/x').code).toBe('INTERNAL');
  });

  it('a full disk fails the write with DISK_FULL and later writes too (no holes)', async () => {
    // /dev/full answers every write with ENOSPC
    const full = await SpoolFile.open('/dev/full', 'w');
    await expect(full.append(new Uint8Array(10))).rejects.toMatchObject({ code: 'DISK_FULL' });
    await expect(full.append(new Uint8Array(10))).rejects.toMatchObject({ code: 'DISK_FULL' });
    await full.close();
  });
});
