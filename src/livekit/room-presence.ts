import { RoomServiceClient } from 'livekit-server-sdk';
import type { Config } from '../config';
import type { RoomPresencePort } from '../recordings/ports';

/**
 * Who is in a room, through LiveKit's RoomService: hidden participants (recorders like ours)
 * and identities with the recorder prefix do not count. A room LiveKit does not know is empty.
 */
export class LivekitRoomPresence implements RoomPresencePort {
  private readonly client: RoomServiceClient;

  constructor(
    config: Config['livekit'],
    private readonly recorderIdentityPrefix = 'recorder-',
  ) {
    this.client = new RoomServiceClient(httpUrl(config.url), config.apiKey, config.apiSecret, { requestTimeout: 5 });
  }

  async countParticipants(roomName: string): Promise<number> {
    try {
      const list = await this.client.listParticipants(roomName);
      return list.filter((p) => !p.permission?.hidden && !p.identity.startsWith(this.recorderIdentityPrefix)).length;
    } catch (err) {
      if (isNotFound(err)) return 0;
      throw err;
    }
  }
}

export function httpUrl(wsUrl: string): string {
  return wsUrl.replace(/^ws(s?):\/\//, 'http$1://');
}

function isNotFound(err: unknown): boolean {
  const e = err as { status?: number; code?: string; message?: string };
  return e?.status === 404 || e?.code === 'not_found' || /does not exist|not found/i.test(e?.message ?? '');
}
