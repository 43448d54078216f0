import { execFileSync, spawn } from 'node:child_process';
import { MachineLoad } from '../../src/observability/machine-load';

/**
 * What admission measures, on this machine's real /proc: load of another program counts as
 * others (a lasting one, not a short burst), load of this process tree as own.
 */
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A busy loop that is not our descendant (its parent exits, so it is re-parented): another program. */
function foreignBusyLoop(nice = 0): number {
  const out = execFileSync('sh', ['-c', `(exec nice -n ${nice} sh -c 'while :; do :; done') >/dev/null 2>&1 & echo $!`], { encoding: 'utf8' });
  return Number(out.trim());
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

describe('MachineLoad', () => {
  let load: MachineLoad;
  const started: number[] = [];
  beforeEach(() => {
    load = new MachineLoad(4000).start();
  });
  afterEach(() => {
    load.stop();
    for (const pid of started.splice(0)) kill(pid);
  });

  it('counts a lasting load of another program as others, not as own', async () => {
    await sleep(4500);
    const before = load.measure()!;
    started.push(foreignBusyLoop());
    await sleep(4500);
    const during = load.measure()!;
    expect(during.cores).toBeGreaterThanOrEqual(1);
    expect(during.others - before.others).toBeGreaterThan(0.7);
    expect(during.own).toBeLessThan(0.3);
  });

  it('counts its own children as own, and ignores a burst elsewhere of a second', async () => {
    const child = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    started.push(child.pid!);
    await sleep(4500);
    const busy = load.measure()!;
    expect(busy.own).toBeGreaterThan(0.7);
    kill(child.pid!);
    await sleep(4500);
    const quiet = load.measure()!;
    const burst = foreignBusyLoop();
    started.push(burst);
    await sleep(1000);
    kill(burst);
    await sleep(500);
    expect(load.measure()!.others - quiet.others).toBeLessThan(0.3);
  });

  it('counts another program at nice 5 whole, at nice 19 by the next to nothing it keeps', async () => {
    await sleep(4500);
    const before = load.measure()!;
    const five = foreignBusyLoop(5);
    started.push(five);
    await sleep(4500);
    const atFive = load.measure()!.others - before.others;
    kill(five);
    started.push(foreignBusyLoop(19));
    await sleep(4500);
    const atNineteen = load.measure()!.others - before.others;
    expect({ atFive: atFive > 0.7, atNineteen: atNineteen < 0.15 }).toEqual({ atFive: true, atNineteen: true });
  });

  it('counts a niced child (a post-processing pass) as neither own nor others: it yields its CPU', async () => {
    await sleep(4500);
    const before = load.measure()!;
    const child = spawn('nice', ['-n', '19', 'sh', '-c', 'while :; do :; done'], { stdio: 'ignore' });
    started.push(child.pid!);
    await sleep(4500);
    const during = load.measure()!;
    expect(during.own).toBeLessThan(0.3);
    expect(during.others - before.others).toBeLessThan(0.3);
  });
});
