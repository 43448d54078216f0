import { randomBytes, randomUUID } from 'node:crypto';
import { assertValidRoomName } from '../../src/livekit/tokens';
import { checkIdentifier, IDENTIFIERS, isValidIdentifier, type IdentifierKind } from '../../src/recordings/identifiers';
import { recordingKey } from '../../src/storage/keys';

const EXAMPLES: Record<IdentifierKind, { good: string[]; bad: unknown[] }> = {
  callId: {
    good: ['c', '0', 'call_123', 'a-b_c', 'A'.repeat(64), '9_-'],
    bad: ['', '_x', '-x', '.x', 'a.b', 'a/b', '..', 'a b', 'é', 'A'.repeat(65), 5, null],
  },
  roomName: {
    good: ['standup', 'room-2025-06-01', 'a:b=c@d+e.f_g', '0', 'r'.repeat(128)],
    bad: ['', '_standup', '-r', '.r', ':r', '@r', 'a room', 'a/b', 'r'.repeat(129), undefined],
  },
  userId: {
    good: ['user_42', 'auth0|abc', 'a@b.c', '_svc', '-x'],
    bad: ['', 'u 1', 'u/1', 'u'.repeat(129)],
  },
  recordingId: {
    good: [randomUUID(), randomUUID().toUpperCase()],
    bad: ['abc', '00000000-0000-0000-0000-000000000000', `${randomUUID()}x`],
  },
  idempotencyKey: {
    good: ['k', '~!@#$%^&*()', 'k'.repeat(255)],
    bad: ['', 'a b', 'k'.repeat(256), 'ключ'],
  },
  storageSegment: {
    good: ['r_1', 'rec-1', 'a.b', randomUUID()],
    bad: ['', '..', 'a..b', '.a', '_a', 'a/b', 'a\\b'],
  },
  presetName: {
    good: ['a', 'brand-dark', 'talk_1080p', '0', '-x', 'p'.repeat(64)],
    bad: ['', 'Brand', 'a b', 'a.b', 'a/b', 'é', 'p'.repeat(65), 7],
  },
};

describe('identifier rules', () => {
  test.each(Object.keys(EXAMPLES) as IdentifierKind[])('%s', (kind) => {
    for (const v of EXAMPLES[kind].good) expect([v, isValidIdentifier(kind, v)]).toEqual([v, true]);
    for (const v of EXAMPLES[kind].bad) expect([v, isValidIdentifier(kind, v)]).toEqual([v, false]);
  });

  test('a refusal names the rule; a room name is INVALID_ROOM_NAME, the rest VALIDATION_ERROR', () => {
    expect(() => checkIdentifier('roomName', '_standup', 'roomName')).toThrow(
      expect.objectContaining({ code: 'INVALID_ROOM_NAME', message: expect.stringContaining(IDENTIFIERS.roomName.rule) }),
    );
    expect(() => checkIdentifier('callId', '_x', 'call id')).toThrow(expect.objectContaining({ code: 'VALIDATION_ERROR', status: 400 }));
    expect(checkIdentifier('callId', 'ok')).toBe('ok');
  });

  // every consumer honours what the API accepts: random strings over the alphabets involved
  const alphabet = 'abcXYZ019_-abcXYZ019_-.:=@+|/ ~%';
  const random = (n: number) => Array.from(randomBytes(n), (b) => alphabet[b % alphabet.length]).join('');
  const samples = Array.from({ length: 4000 }, (_, i) => random(1 + (i % 70)));

  test('every accepted call id makes a valid storage key (with an accepted recording id)', () => {
    const accepted = samples.filter((s) => isValidIdentifier('callId', s));
    expect(accepted.length).toBeGreaterThan(20);
    for (const id of [...accepted, ...EXAMPLES.callId.good]) {
      expect(recordingKey('rec/', id, randomUUID(), 'mp4')).toMatch(/^rec\/[^/]+\/[^/]+\/recording\.mp4$/);
    }
  });

  test('every accepted room name is one the recorder joins', () => {
    const accepted = samples.filter((s) => isValidIdentifier('roomName', s));
    expect(accepted.length).toBeGreaterThan(20);
    for (const room of [...accepted, ...EXAMPLES.roomName.good]) expect(() => assertValidRoomName(room)).not.toThrow();
    for (const room of EXAMPLES.roomName.bad.filter((r): r is string => typeof r === 'string')) expect(() => assertValidRoomName(room)).toThrow(expect.objectContaining({ code: 'INVALID_ROOM_NAME' }));
  });
});
