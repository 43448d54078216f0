import type { RecordingProgress } from '../recordings/contract';

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function formatProgress(p: RecordingProgress): string {
  return `recording ${clock(p.elapsedMs)}  participants ${p.participants}  ${(p.bytes / 1e6).toFixed(1)} MB  ${p.fps.toFixed(1)} fps`;
}

/** A one-line status on a terminal; a line every 10 s when stderr is not a terminal. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): { update(p: RecordingProgress): void; done(): void } {
  let lastPlain = 0;
  return {
    update(p) {
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${formatProgress(p)}`);
      } else if (p.elapsedMs - lastPlain >= 10000) {
        lastPlain = p.elapsedMs;
        stream.write(`${formatProgress(p)}\n`);
      }
    },
    done() {
      if (stream.isTTY) stream.write('\r\x1b[2K');
    },
  };
}
