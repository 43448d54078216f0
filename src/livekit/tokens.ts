import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { AppError } from '../errors';
import { checkIdentifier } from '../recordings/identifiers';

export interface LivekitCredentials {
  url: string;
  apiKey: string;
  apiSecret: string;
}

/** INVALID_ROOM_NAME unless the API's room-name rule holds (LiveKit itself accepts almost any string). */
export function assertValidRoomName(room: string): void {
  checkIdentifier('roomName', room, 'room name');
}

/** The recorder's own participant: hidden from others, subscribe-only, marked as a recorder. */
export function recorderToken(creds: LivekitCredentials, room: string, identity: string, ttlSeconds = 24 * 3600): Promise<string> {
  const token = new AccessToken(creds.apiKey, creds.apiSecret, { identity, name: 'Recorder', ttl: ttlSeconds });
  token.addGrant({
    room,
    roomJoin: true,
    canSubscribe: true,
    canPublish: false,
    canPublishData: false,
    hidden: true,
    recorder: true,
  });
  return token.toJwt();
}

/** A token for a synthetic publisher (demo, tests, benchmarks). */
export function publisherToken(creds: LivekitCredentials, room: string, identity: string, name = identity, kind?: 'agent'): Promise<string> {
  const token = new AccessToken(creds.apiKey, creds.apiSecret, { identity, name, ttl: 3600 });
  if (kind) token.kind = kind;
  token.addGrant({ room, roomJoin: true, canPublish: true, canSubscribe: false });
  return token.toJwt();
}

export function httpUrl(wsUrl: string): string {
  return wsUrl.replace(/^ws(s?):\/\//, 'http$1://');
}

export function roomService(creds: LivekitCredentials): RoomServiceClient {
  return new RoomServiceClient(httpUrl(creds.url), creds.apiKey, creds.apiSecret);
}

/**
 * Fails fast, and says which, when the server cannot be reached or refuses our key:
 * a recording that would only time out in the browser later.
 */
export async function checkLivekit(creds: LivekitCredentials, timeoutMs = 10000): Promise<void> {
  const target = httpUrl(creds.url);
  let res: Response;
  try {
    // the Twirp endpoint answers 401 to a bad key without needing a room to exist
    const token = new AccessToken(creds.apiKey, creds.apiSecret, { ttl: 60 });
    token.addGrant({ roomList: true });
    res = await fetch(new URL('/twirp/livekit.RoomService/ListRooms', target), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token.toJwt()}` },
      body: '{}',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : describeFetchError(err);
    throw new AppError('LIVEKIT_UNREACHABLE', `LiveKit server at ${creds.url} is unreachable: ${reason}`, { cause: err });
  }
  if (res.status === 401 || res.status === 403) {
    throw new AppError('LIVEKIT_AUTH_FAILED', `LiveKit server at ${creds.url} refused API key "${creds.apiKey}": check the key and secret`);
  }
  if (!res.ok) {
    throw new AppError('LIVEKIT_UNREACHABLE', `LiveKit server at ${creds.url} answered HTTP ${res.status}`);
  }
}

function describeFetchError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}
