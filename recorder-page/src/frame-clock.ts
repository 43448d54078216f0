/**
 * A Worker's timers are not throttled with the page's, and it schedules against an
 * absolute deadline so late ticks do not add up to a lower frame rate.
 * Create it early (when the page loads): starting a Worker can take hundreds of milliseconds.
 */
export class FrameClock {
  private readonly worker: Worker;
  private onTick?: (lateMs: number) => void;

  constructor() {
    const src = `let timer; let n = 0; let t0 = 0; let period = 0;
      function tick() { n++; postMessage(performance.timeOrigin + t0 + n * period); timer = setTimeout(tick, Math.max(0, t0 + (n + 1) * period - performance.now())); }
      onmessage = (e) => { clearTimeout(timer); if (e.data > 0) { period = e.data; n = 0; t0 = performance.now(); timer = setTimeout(tick, period); } };`;
    this.worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    // each tick carries its due time (wall clock): how late the page takes it is how long it was busy
    this.worker.onmessage = (e: MessageEvent<number>) => this.onTick?.(performance.timeOrigin + performance.now() - e.data);
  }

  start(periodMs: number, onTick: (lateMs: number) => void): void {
    this.onTick = onTick;
    this.worker.postMessage(periodMs);
  }

  stop(): void {
    this.onTick = undefined;
    this.worker.postMessage(0);
  }
}
