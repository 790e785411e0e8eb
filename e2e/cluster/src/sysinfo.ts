/** Pure parsers and IP math the cluster's I/O builds on (unit-tested). */

/** One line of /proc/self/mountinfo. */
export interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
  /** The super options, e.g. `rw,cpu` for a cgroup v1 hierarchy. */
  readonly superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses /proc/self/mountinfo (proc(5)): fields 5 (mount point), then after ` - `: type, source, super options. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mp = left[4];
    const fsType = right[0];
    if (mp === undefined || fsType === undefined) continue;
    out.push({ mountPoint: unescapeMount(mp), fsType, superOptions: right[2] ?? '' });
  }
  return out;
}

/** The mount points of cgroup v1 hierarchies (`cgroup`), and of cgroup v2 (`cgroup2`) if mounted. */
export function cgroupMounts(entries: readonly MountEntry[]): { v1: string[]; v2: string[] } {
  return {
    v1: entries.filter((e) => e.fsType === 'cgroup').map((e) => e.mountPoint),
    v2: entries.filter((e) => e.fsType === 'cgroup2').map((e) => e.mountPoint),
  };
}

/**
 * Mount points at or under `dir`, deepest first (the order to unmount them in). A
 * mount point listed twice (stacked mounts) appears twice: each needs its own umount.
 */
export function mountsUnder(entries: readonly MountEntry[], dir: string): string[] {
  const root = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return entries
    .map((e) => e.mountPoint)
    .filter((m) => m === root || m.startsWith(`${root}/`))
    .sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** An IPv4 CIDR as [first, last] numbers; undefined for anything else (IPv6, garbage). */
export function v4Range(cidr: string): [number, number] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(cidr);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (len > 32) return undefined;
  const ip = (((o[0] ?? 0) << 24) >>> 0) + ((o[1] ?? 0) << 16) + ((o[2] ?? 0) << 8) + (o[3] ?? 0);
  const size = 2 ** (32 - len);
  const first = ip - (ip % size);
  return [first, first + size - 1];
}

/** An IPv6 CIDR (or address) as [first, last] 128-bit numbers; undefined for anything else. */
export function v6Range(cidr: string): [bigint, bigint] | undefined {
  const m = /^([0-9a-f:]+)(?:\/(\d{1,3}))?$/i.exec(cidr);
  if (!m?.[1] || !m[1].includes(':')) return undefined;
  const len = m[2] === undefined ? 128 : Number(m[2]);
  if (len > 128) return undefined;
  const halves = m[1].split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string | undefined): string[] => (h ? h.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const fill = 8 - head.length - tail.length;
  if (fill < 0 || (halves.length === 1 && fill !== 0)) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? fill : 0).fill('0'), ...tail];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const ip = all.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n);
  const size = 1n << BigInt(128 - len);
  const first = ip - (ip % size);
  return [first, first + size - 1n];
}

/** Whether two CIDRs of the same family share an address (different families never do). */
export function overlaps(a: string, b: string): boolean {
  const ra = v4Range(a);
  const rb = v4Range(b);
  if (ra && rb) return ra[0] <= rb[1] && rb[0] <= ra[1];
  const sa = v6Range(a);
  const sb = v6Range(b);
  if (sa && sb) return sa[0] <= sb[1] && sb[0] <= sa[1];
  return false;
}

/**
 * The machine's routes (from `ip -j route show table all`, both families) that overlap any of
 * `cidrs`, as `DST dev DEV`; default routes do not count (they overlap everything).
 */
export function conflictingRoutes(routes: readonly { dst?: string; dev?: string; table?: string }[], cidrs: readonly string[]): string[] {
  const out: string[] = [];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    if (r.table === 'local' && r.dst.startsWith('127.')) continue;
    for (const c of cidrs) {
      if (overlaps(r.dst, c)) {
        out.push(`${r.dst}${r.dev ? ` dev ${r.dev}` : ''}${r.table && r.table !== 'main' ? ` table ${r.table}` : ''} (overlaps ${c})`);
        break;
      }
    }
  }
  return out;
}

/** Whether a process's command line (NUL-separated, as in /proc/PID/cmdline) names `socket` as its containerd address. */
export function isShimOf(cmdline: string, socket: string): boolean {
  const args = cmdline.split('\0');
  if (!(args[0] ?? '').endsWith('containerd-shim-runc-v2')) return false;
  const i = args.indexOf('-address');
  return i >= 0 && args[i + 1] === socket;
}
