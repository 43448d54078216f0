import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  recordingKey, thumbnailKey, posterKey, recordingPrefix, normalizePrefix, assertSafeKey,
  parseAwsCredentials, parseGcpCredentials, createStorage, LocalStorage, S3Storage, GcsStorage, toStorageError,
} from '../../src/storage';

describe('storage keys', () => {
  it('lays out the objects of a recording under one prefix', () => {
    expect(recordingKey('rec/', 'call-1', 'r_1', 'mp4')).toBe('rec/call-1/r_1/recording.mp4');
    expect(thumbnailKey('rec', 'call-1', 'r_1', 5)).toBe('rec/call-1/r_1/thumbnails/thumb-5.jpg');
    expect(posterKey('', 'call-1', 'r_1')).toBe('call-1/r_1/poster.jpg');
    expect(recordingPrefix('a/b', 'c', 'r')).toBe('a/b/c/r/');
    expect(normalizePrefix('/x')).toBe('x/');
  });
  it('rejects ids and keys that could escape', () => {
    expect(() => recordingKey('', '../x', 'r', 'mp4')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    expect(() => recordingKey('', 'c', 'a/b', 'mp4')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    expect(() => assertSafeKey('a/../../etc/passwd')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR' }));
    expect(() => assertSafeKey('/abs')).toThrow();
    expect(() => thumbnailKey('', 'c', 'r', 0)).toThrow();
  });
});

describe('storage credentials', () => {
  it('parses aws JSON and key:secret', () => {
    expect(parseAwsCredentials('{"accessKeyId":"AK","secretAccessKey":"S"}')).toEqual({ accessKeyId: 'AK', secretAccessKey: 'S' });
    expect(parseAwsCredentials('AK:se:cret')).toEqual({ accessKeyId: 'AK', secretAccessKey: 'se:cret' });
    expect(parseAwsCredentials(undefined)).toBeUndefined();
    expect(() => parseAwsCredentials('nocolon')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => parseAwsCredentials('{"accessKeyId":"AK"}')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
  it('parses gcp JSON inline or from a file', () => {
    const json = '{"type":"service_account","project_id":"p","client_email":"e@x"}';
    expect(parseGcpCredentials(json)?.project_id).toBe('p');
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sa-')), 'sa.json');
    fs.writeFileSync(f, json);
    expect(parseGcpCredentials(f)?.client_email).toBe('e@x');
    expect(() => parseGcpCredentials('/no/such/file.json')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => parseGcpCredentials('{broken')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('createStorage', () => {
  const base = { region: 'us-east-1', prefix: '', signedUrlSeconds: 60, localDir: os.tmpdir() };
  it('chooses the provider from configuration', async () => {
    const l = createStorage({ ...base, provider: 'local' });
    const s = createStorage({ ...base, provider: 'aws', bucket: 'b', credentials: 'a:b', endpoint: 'http://127.0.0.1:1' });
    const g = createStorage({ ...base, provider: 'gcp', bucket: 'b', endpoint: 'http://127.0.0.1:1', credentials: '{}' });
    expect(l).toBeInstanceOf(LocalStorage);
    expect(s).toBeInstanceOf(S3Storage);
    expect(g).toBeInstanceOf(GcsStorage);
    await Promise.all([l.close(), s.close(), g.close()]);
  });
  it('needs a bucket for the cloud providers', () => {
    expect(() => createStorage({ ...base, provider: 'aws' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => createStorage({ ...base, provider: 'gcp' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
  it('maps provider errors to whose fault it is', () => {
    expect(toStorageError('aws', 'put', 'k', Object.assign(new Error('denied'), { $metadata: { httpStatusCode: 403 } }))).toMatchObject({ code: 'STORAGE_REJECTED', fault: 'destination' });
    expect(toStorageError('aws', 'put', 'k', Object.assign(new Error('x'), { $metadata: { httpStatusCode: 503 } })).code).toBe('STORAGE_UNAVAILABLE');
    expect(toStorageError('gcp', 'put', 'k', Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })).code).toBe('STORAGE_UNAVAILABLE');
    expect(toStorageError('gcp', 'get', 'k', Object.assign(new Error('nf'), { code: 404 })).code).toBe('NOT_FOUND');
  });
});
