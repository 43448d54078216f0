/**
 * WebVTT (W3C WebVTT, the text track format players read beside a video): a header, then cues
 * of a time span and text. A cue's text cannot hold a blank line (it would end the cue), `-->`,
 * or a bare `<` and `&` (markup); a voice span `<v Name>` says who speaks.
 */

export interface VttCue {
  startMs: number;
  endMs: number;
  /** Who says it: a voice span (`<v Name>`). */
  voice?: string;
  text: string;
}

/** `hh:mm:ss.ttt`, as a cue's timing wants it (hours always given, so any length reads the same). */
export function vttTimestamp(ms: number): string {
  const t = Math.max(0, Math.round(ms));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(t / 3_600_000))}:${pad(Math.floor(t / 60_000) % 60)}:${pad(Math.floor(t / 1000) % 60)}.${pad(t % 1000, 3)}`;
}

/** Text as a cue may carry it: markup characters escaped, line breaks kept but never a blank line. */
export function vttText(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => escape(line).trim())
    .filter((line) => line !== '')
    .join('\n');
}

/** A voice span's annotation: one line, no `>` to end it early. */
function vttVoice(name: string): string {
  return escape(name.replace(/\s+/g, ' ').trim());
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The whole file; no cues gives a valid empty track (the header alone). */
export function buildVtt(cues: VttCue[]): string {
  const blocks = cues
    .filter((c) => c.endMs > c.startMs)
    .map((c) => {
      const text = vttText(c.text);
      const voice = c.voice !== undefined ? vttVoice(c.voice) : '';
      const body = voice ? `<v ${voice}>${text}` : text;
      const timing = `${vttTimestamp(c.startMs)} --> ${vttTimestamp(c.endMs)}`;
      return body ? `${timing}\n${body}` : timing;
    });
  return ['WEBVTT', ...blocks].join('\n\n') + '\n';
}
