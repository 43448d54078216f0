import { Room, RoomEvent, Track, type RemoteParticipant, type RemoteTrack } from 'livekit-client';

/**
 * An example custom layout page: plain DOM and CSS, recorded by tab capture. The contract
 * it follows is all a layout page needs:
 *   in:  query parameters url, token (a hidden recorder token), layout, width, height, fps;
 *        a live layout change in the recorder participant's metadata, {"layout": "grid-light"}
 *        (what @livekit/egress-sdk's onLayoutChanged reports)
 *   out: console.log('START_RECORDING') once it shows the room, and
 *        console.log('END_RECORDING') when the recording should end (here: the room closed).
 * It joins the room itself and plays the participants' audio; the recorder captures the tab.
 */

const q = new URLSearchParams(location.search);
const tiles = document.getElementById('tiles')!;
document.getElementById('title')!.textContent = q.get('title') ?? 'Recording';

/** This page draws one layout, a grid; a layout name's theme (`grid-light`) picks its colours. */
function applyLayout(layout: string): void {
  document.body.classList.toggle('light', layout.endsWith('-light'));
}
applyLayout(q.get('layout') ?? 'grid');

// Adaptive stream picks each video's simulcast layer from its element's on-screen size.
const room = new Room({ adaptiveStream: true, dynacast: false });

function tileOf(p: RemoteParticipant): HTMLElement {
  let tile = document.getElementById(`tile-${p.identity}`);
  if (!tile) {
    tile = document.createElement('div');
    tile.className = 'tile';
    tile.id = `tile-${p.identity}`;
    const name = document.createElement('div');
    name.className = 'name';
    name.textContent = p.name || p.identity;
    tile.appendChild(name);
    tiles.appendChild(tile);
    relayout();
  }
  return tile;
}

/** As square a grid as the count allows. */
function relayout(): void {
  const n = Math.max(1, tiles.children.length);
  const cols = Math.ceil(Math.sqrt(n));
  tiles.style.gridTemplateColumns = `repeat(${cols}, 1fr)`;
  tiles.style.gridTemplateRows = `repeat(${Math.ceil(n / cols)}, 1fr)`;
}

room.on(RoomEvent.ParticipantConnected, (p) => void tileOf(p));
room.on(RoomEvent.ParticipantDisconnected, (p) => {
  document.getElementById(`tile-${p.identity}`)?.remove();
  relayout();
});
room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, _pub, p: RemoteParticipant) => {
  const el = track.attach();
  if (track.kind === Track.Kind.Video) tileOf(p).prepend(el);
  else document.body.appendChild(el); // audio plays in the tab, and tab capture records it
});
room.on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) => track.detach().forEach((el) => el.remove()));
room.on(RoomEvent.Disconnected, () => console.log('END_RECORDING'));
room.on(RoomEvent.ParticipantMetadataChanged, (_previous, p) => {
  if (p !== room.localParticipant) return;
  try {
    const { layout } = JSON.parse(p.metadata ?? '{}') as { layout?: unknown };
    if (typeof layout === 'string') applyLayout(layout);
  } catch {
    // not ours: the recorder only ever sets {"layout": ...}
  }
});

room
  .connect(q.get('url') ?? '', q.get('token') ?? '')
  .then(() => {
    for (const p of room.remoteParticipants.values()) tileOf(p);
    console.log('START_RECORDING');
  })
  .catch((err: Error) => console.error(`could not join: ${err.message}`));
