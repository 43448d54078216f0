import fs from 'node:fs';

/** One line of the process table (Linux /proc/<pid>/stat). */
export interface ProcessStat {
  pid: number;
  ppid: number;
  /** User + system time so far, in clock ticks. */
  ticks: number;
  nice: number;
}

/** Every process of the machine, read once. */
export function processTable(): ProcessStat[] {
  const out: ProcessStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // fields 4, 14, 15 and 19 of proc(5), counted after the command's closing parenthesis
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(entry), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), nice: Number(f[16]) });
    } catch {
      /* exited */
    }
  }
  return out;
}

/** A process and all its descendants (Linux /proc): for cost measurement and leak checks. */
export function processTree(root: number, table: ProcessStat[] = processTable()): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}
