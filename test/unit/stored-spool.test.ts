import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/recorder/logger';
import { SpoolFile } from '../../src/recorder/spool';
import { MEDIA_SPOOL, StoredSpool } from '../../src/recorder/stored-spool';
import { storedRun } from '../../src/recorder/stored-spool-read';
import { LocalStorage, type Storage } from '../../src/storage';

/** The stored spool's rules, on a local directory standing in for the bucket, its puts slowed at will. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stored-spool-unit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function slowed(storage: Storage, delay: { ms: number }, puts: number[]): Storage {
  return new Proxy(storage, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'putBytes') return typeof v === 'function' ? v.bind(target) : v;
      return async (key: string, data: Uint8Array, type: string) => {
        puts.push(data.byteLength);
        await new Promise((r) => setTimeout(r, delay.ms));
        return target.putBytes(key, data, type);
      };
    },
  });
}

// each case's spool is closed after it: left to the garbage collector, Node warns of its handle
const opened: SpoolFile[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function setup(name: string, delayMs: number, ackTimeoutMs = 1000) {
  const store = new LocalStorage({ dir: path.join(tmp, `${name}-bucket`) });
  const delay = { ms: delayMs };
  const puts: number[] = [];
  const spoolStore = { storage: slowed(store, delay, puts), prefix: 'p/' };
  const spool = await SpoolFile.create(path.join(tmp, name), 'rec');
  opened.push(spool);
  const stored = new StoredSpool(spoolStore, { callId: 'c', recordingId: 'rec', name: MEDIA_SPOOL }, spool.path, undefined, silentLogger, { ackTimeoutMs, retryMs: 50, maxSegmentBytes: 1000 });
  const add = async (bytes: number) => {
    await spool.append(new Uint8Array(bytes).fill(1));
    stored.appended(spool.bytes);
  };
  return { spoolStore, spool, stored, add, puts, delay };
}

it('puts what arrived during a put together in the next one, within maxSegmentBytes', async () => {
  const { spoolStore, stored, add, puts } = await setup('batch', 60);
  await add(100); // put alone
  for (let i = 0; i < 12; i++) await add(100); // arrive during the first put
  await stored.close(3000);
  expect(puts[0]).toBe(100);
  expect(puts.slice(1).every((b) => b <= 1000)).toBe(true);
  expect(puts.length).toBeLessThan(5);
  expect(await storedRun(spoolStore, { callId: 'c', recordingId: 'rec', name: MEDIA_SPOOL })).toMatchObject({ bytes: 1300 });
});

it('an ack waits for its put, and no longer than ackTimeoutMs', async () => {
  const { stored, add, delay } = await setup('timeout', 40, 150);
  await add(10);
  let t = Date.now();
  await stored.whenStored(0);
  expect(Date.now() - t).toBeGreaterThanOrEqual(30);
  delay.ms = 600;
  await add(10);
  t = Date.now();
  await stored.whenStored(1);
  expect(Date.now() - t).toBeLessThan(400);
  await stored.close(2000);
  expect(stored.storedBytes).toBe(20);
});
