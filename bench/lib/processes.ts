/**
 * Process accounting for benchmarks: which processes make up a server under test and how much CPU
 * they have used. CPU time per operation is far less sensitive to a noisy neighbour than rates.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

interface PsRow {
  pid: number;
  ppid: number;
  rssKiB: number;
  user: string;
}

function ps(): PsRow[] {
  return spawnSync('ps', ['-e', '-o', 'pid=,ppid=,rss=,user='], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((line) => {
      const [pid, ppid, rss, user] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), rssKiB: Number(rss), user: user ?? '' };
    });
}

/** Every pid in the process tree under (and including) `pid`, from one `ps` snapshot. */
function processTree(pid: number, rows: PsRow[] = ps()): number[] {
  const children = new Map<number, number[]>();
  for (const row of rows) children.set(row.ppid, [...(children.get(row.ppid) ?? []), row.pid]);
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Resident memory in MiB of `pid` itself and of all its descendants together. */
export function treeRssMiB(pid: number): { root: number; descendants: number } {
  const rows = ps();
  const rss = new Map(rows.map((r) => [r.pid, r.rssKiB]));
  let descendants = 0;
  for (const p of processTree(pid, rows)) if (p !== pid) descendants += rss.get(p) ?? 0;
  return { root: Math.round((rss.get(pid) ?? 0) / 1024), descendants: Math.round(descendants / 1024) };
}

/** Pids of every process run by `user` (the external PostgreSQL's server processes). */
export function processesOf(user: string): number[] {
  return ps()
    .filter((r) => r.user === user)
    .map((r) => r.pid);
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) used so far by one process; 0 once it has exited. */
export function cpuSecondsOf(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0; // exited meanwhile
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds used so far by the processes of a tree, split into the root and the rest. */
export function cpuSeconds(pid: number): { root: number; children: number } {
  let root = 0;
  let children = 0;
  for (const p of processTree(pid)) {
    if (p === pid) root += cpuSecondsOf(p);
    else children += cpuSecondsOf(p);
  }
  return { root, children };
}
