import { createService, type Service } from '../../src/app/http';
import { createTestDatabase } from '../helpers/services/postgres';
import { call, FfmpegTestRecorder, listen, SERVICE_KEY, signJwt, testConfig, userToken } from './recordings-harness';

/**
 * Who may create (claim) a call for a room: a service key for any room; a user only for a
 * room its token names (`room` / `rooms`, '*' for any). A create that collides with a call
 * the caller cannot see gets the same refusal as a room its token does not name, so it
 * tells nobody that the call exists.
 */
describe('API: creating calls', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let svc: Service;
  let http: Awaited<ReturnType<typeof listen>>;
  const service = { headers: { 'x-api-key': SERVICE_KEY } };
  const asService = (userId: string) => ({ headers: { 'x-api-key': SERVICE_KEY, 'x-user-id': userId } });
  const user = async (sub: string, rooms?: string[]) => ({ token: await userToken(sub, rooms ? { rooms } : {}) });
  const create = (creds: { token?: string; headers?: Record<string, string> }, body: Record<string, unknown>) => call(http.url, 'POST', '/api/video-calls', { ...creds, body });
  const calls = () => svc.db.prisma.videoCall.findMany({ orderBy: { id: 'asc' }, select: { id: true, roomName: true, hostId: true } });

  beforeAll(async () => {
    db = await createTestDatabase('createperm');
    svc = await createService(testConfig({ DATABASE_URL: db.url }), { recorder: new FfmpegTestRecorder(), presence: false });
    await svc.start();
    http = await listen(svc.app);
    // a call someone else owns: host owner-1, participant member-1
    expect((await create(service, { id: 'c-exist', roomName: 'room-exist', hostId: 'owner-1', participantIds: ['member-1'] })).status).toBe(201);
  });
  afterAll(async () => {
    await http?.close();
    await svc?.close();
    await db?.drop();
  });

  test('the permission matrix for new rooms', async () => {
    type Creds = { token?: string; headers?: Record<string, string> };
    const exp = Math.floor(Date.now() / 1000) + 600;
    const cases: [string, Creds, Record<string, unknown>, number][] = [
      ['service key, any room', service, { roomName: 'room-s1', hostId: 'h-1' }, 201],
      ['service key acting for the host', asService('h-2'), { roomName: 'room-s2', hostId: 'h-2' }, 201],
      ['service key acting for another user', asService('h-3'), { roomName: 'room-s3', hostId: 'h-4' }, 403],
      ['user, token names no room', await user('u-1'), { roomName: 'room-u1', hostId: 'u-1' }, 403],
      ['user, token names other rooms', await user('u-2', ['room-a', 'room-b']), { roomName: 'room-u2', hostId: 'u-2' }, 403],
      ['user, token names the room (rooms)', await user('u-3', ['room-x', 'room-u3']), { roomName: 'room-u3', hostId: 'u-3' }, 201],
      ['user, token names the room (room)', { token: signJwt({ sub: 'u-4', exp, room: 'room-u4' }) }, { roomName: 'room-u4', hostId: 'u-4' }, 201],
      ['user, token for any room', await user('u-5', ['*']), { roomName: 'room-u5', hostId: 'u-5' }, 201],
      ['user, room named but another host', await user('u-6', ['room-u6']), { roomName: 'room-u6', hostId: 'someone-else' }, 403],
    ];
    const got: Record<string, number> = {};
    const want: Record<string, number> = {};
    for (const [name, creds, body, status] of cases) {
      const res = await create(creds, body);
      got[name] = res.status;
      want[name] = status;
      if (res.status === 403) expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect(got).toEqual(want);
    // a refused create stored nothing
    expect((await calls()).map((c) => c.roomName).sort()).toEqual(['room-exist', 'room-s1', 'room-s2', 'room-u3', 'room-u4', 'room-u5']);
  });

  test('a token whose room claims have another shape is refused as invalid', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    for (const claims of [{ rooms: 'room-z' }, { rooms: [5] }, { room: ['room-z'] }, { rooms: ['a room'] }]) {
      const res = await create({ token: signJwt({ sub: 'u-9', exp, ...claims }) }, { roomName: 'room-z', hostId: 'u-9' });
      expect({ claims, status: res.status, code: res.body.error.code }).toEqual({ claims, status: 401, code: 'UNAUTHORIZED' });
    }
  });

  test('a collision tells only those who may see the existing call', async () => {
    const before = await calls();
    // the refusal a stranger gets for a room its token does not name, nothing existing
    const baseline = await create(await user('stranger-1', ['room-other']), { roomName: 'room-never-made', hostId: 'stranger-1' });
    expect(baseline.status).toBe(403);
    const collisions: [string, { token?: string; headers?: Record<string, string> }, Record<string, unknown>][] = [
      ['stranger, token names the taken room', await user('stranger-1', ['room-exist']), { roomName: 'room-exist', hostId: 'stranger-1' }],
      ['stranger, taken id in a free room', await user('stranger-1', ['room-free']), { id: 'c-exist', roomName: 'room-free', hostId: 'stranger-1' }],
      ['stranger, token for any room, taken room', await user('stranger-1', ['*']), { roomName: 'room-exist', hostId: 'stranger-1' }],
    ];
    for (const [name, creds, body] of collisions) {
      const res = await create(creds, body);
      expect({ name, status: res.status, body: res.body }).toEqual({ name, status: baseline.status, body: baseline.body });
    }
    // those who may see it are told it exists: its host, its participant, a service key
    const seen: [string, { token?: string; headers?: Record<string, string> }, Record<string, unknown>][] = [
      ['the host, same room', await user('owner-1', ['room-exist']), { roomName: 'room-exist', hostId: 'owner-1' }],
      ['a participant, same room', await user('member-1', ['room-exist']), { roomName: 'room-exist', hostId: 'member-1' }],
      ['the host, same id', await user('owner-1', ['room-free']), { id: 'c-exist', roomName: 'room-free', hostId: 'owner-1' }],
      ['a service key, same room', service, { roomName: 'room-exist', hostId: 'anyone' }],
      ['a service key, same id', service, { id: 'c-exist', roomName: 'room-free', hostId: 'anyone' }],
    ];
    for (const [name, creds, body] of seen) {
      const res = await create(creds, body);
      expect({ name, status: res.status, code: res.body.error.code }).toEqual({ name, status: 409, code: 'CONFLICT' });
    }
    expect(await calls()).toEqual(before);
  });
});
