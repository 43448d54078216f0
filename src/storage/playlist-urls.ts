import path from 'node:path';

/**
 * A stored HLS playlist names its segments relative to itself, which a signed URL of the
 * playlist does not cover (a signature is per object). Served through a signed URL, the
 * playlist is rewritten here: every relative URI (segment lines, EXT-X-MAP's URI) becomes a
 * signed URL of its sibling key, so a player needs nothing but the playlist's link.
 */
export async function withSignedSegmentUrls(text: string, playlistKey: string, sign: (key: string) => Promise<string>): Promise<string> {
  const dir = path.posix.dirname(playlistKey);
  const signed = (uri: string) => (/^[a-z][a-z0-9+.-]*:|^\//i.test(uri) ? Promise.resolve(uri) : sign(path.posix.join(dir, uri)));
  const lines = await Promise.all(
    text.split('\n').map(async (line) => {
      const t = line.trim();
      if (t.startsWith('#EXT-X-MAP:')) {
        const uri = /URI="([^"]+)"/.exec(t)?.[1];
        return uri ? t.replace(`URI="${uri}"`, `URI="${await signed(uri)}"`) : line;
      }
      return t && !t.startsWith('#') ? signed(t) : line;
    }),
  );
  return lines.join('\n');
}
