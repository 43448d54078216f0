/**
 * The HLS media playlists of a recording: the one FFmpeg writes locally (read back to learn
 * which segments it has finished: it lists a segment only once the segment is closed), and
 * the one uploaded beside the segments, which lists only segments already in the storage.
 */

export interface PlaylistSegment {
  /** File name, relative to the playlist. */
  uri: string;
  durationSec: number;
}

export interface LocalPlaylist {
  targetDurationSec: number;
  /** The fMP4 initialisation segment (EXT-X-MAP). */
  mapUri?: string;
  segments: PlaylistSegment[];
  /** FFmpeg wrote EXT-X-ENDLIST: it has finished. */
  ended: boolean;
}

/** FFmpeg's playlist; segments in order. Lines it writes that we do not need are skipped. */
export function parsePlaylist(text: string): LocalPlaylist {
  const out: LocalPlaylist = { targetDurationSec: 0, segments: [], ended: false };
  let duration: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#EXT-X-TARGETDURATION:')) out.targetDurationSec = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-MAP:')) out.mapUri = /URI="([^"]+)"/.exec(line)?.[1];
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-ENDLIST') out.ended = true;
    else if (!line.startsWith('#') && duration !== undefined) {
      out.segments.push({ uri: line, durationSec: duration });
      duration = undefined;
    }
  }
  return out;
}

export interface UploadedPlaylist {
  targetDurationSec: number;
  mapUri?: string;
  /** The segments in the storage, in order; `afterGap`: one before it is missing (a discontinuity for the player). */
  segments: (PlaylistSegment & { afterGap?: boolean })[];
  ended: boolean;
}

/**
 * The playlist a viewer reads: an EVENT playlist (segments are only ever added) while the
 * call goes on, closed with EXT-X-ENDLIST at its end. A segment that never reached the
 * storage is left out and the next one marked as a discontinuity.
 */
export function renderPlaylist(p: UploadedPlaylist): string {
  const longest = Math.max(p.targetDurationSec, ...p.segments.map((s) => s.durationSec));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(longest))}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-INDEPENDENT-SEGMENTS'];
  if (p.mapUri) lines.push(`#EXT-X-MAP:URI="${p.mapUri}"`);
  for (const s of p.segments) {
    if (s.afterGap) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${s.durationSec.toFixed(6)},`, s.uri);
  }
  if (p.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
