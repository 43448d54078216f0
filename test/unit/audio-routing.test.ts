import { resolveRecordingOptions, parseStartOptions } from '../../src/recordings/options';
import { errorCode } from '../helpers/error-code';

const resolve = (body: unknown) => resolveRecordingOptions(parseStartOptions(body), { maxDurationSeconds: 60, layoutOrigins: 'any' }).options.audio;

describe('audio routing', () => {
  test('mixed is the default and is not stored', () => {
    expect(resolve({})).toBeUndefined();
    expect(resolve({ audio: 'mixed' })).toBeUndefined();
    expect(resolve({ audio: { mode: 'mixed' } })).toBeUndefined();
  });
  test('"dual-channel" alone puts the agents on the left', () => {
    expect(resolve({ audio: 'dual-channel' })).toEqual({ mode: 'dual-channel', left: { identities: [], agents: true } });
  });
  test('the left side by identity and/or kind', () => {
    expect(resolve({ audio: { mode: 'dual-channel', left: { identities: ['alice'] } } })).toEqual({ mode: 'dual-channel', left: { identities: ['alice'], agents: false } });
    expect(resolve({ audio: { mode: 'dual-channel', left: { identities: ['bot'], kind: 'agent' } } })).toEqual({ mode: 'dual-channel', left: { identities: ['bot'], agents: true } });
  });
  test.each([
    ['an unknown mode', { audio: 'surround' }],
    ['an unknown kind', { audio: { mode: 'dual-channel', left: { kind: 'human' } } }],
    ['a bad identity', { audio: { mode: 'dual-channel', left: { identities: ['no spaces'] } } }],
    ['a left side naming nobody', { audio: { mode: 'dual-channel', left: {} } }],
    ['a custom layout page', { audio: 'dual-channel', customLayoutUrl: 'https://l.example/page' }],
  ])('refuses %s with UNSUPPORTED_OPTION', (_name, body) => {
    expect(errorCode(() => resolve(body))).toBe('UNSUPPORTED_OPTION');
  });
});
