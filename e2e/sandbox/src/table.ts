/**
 * What `npm run sandbox` prints: one row per request the client made, as a text table or
 * JSON. Pure: the sandbox gathers the facts, this module only shapes them.
 */

/** How a Service's IP reaches the client. */
export type Mode = 'L2' | 'BGP';

/** The route FRR uses for a Service IP. */
export interface FrrRoute {
  /** `bgp`: learned from the speakers; `connected`: the LAN itself (an L2 IP is on-link). */
  readonly source: 'bgp' | 'connected' | 'kernel';
  readonly prefix: string;
  /** Next hops, sorted; empty for an on-link route. */
  readonly nextHops: readonly string[];
  /** For a BGP route: whether zebra installed it in the namespace's kernel table (FRR forwards by it). */
  readonly installed?: boolean;
}

/** What the client got for one HTTP GET. */
export interface Answer {
  readonly ok: boolean;
  readonly status?: number;
  /** The body, trimmed (the responders answer with their name). */
  readonly body?: string;
  /** `OK`, or why not: `TIMEOUT`, `ECONNREFUSED`, ... */
  readonly code: string;
  readonly ms: number;
}

/** One request the client made, and what Herald and FRR say about its IP. */
export interface Row {
  readonly service: string;
  /** The Host the client asked for (`app1.sandbox.test`); absent when it asked by IP. */
  readonly hostName?: string;
  readonly ip: string;
  readonly mode: Mode;
  /** Nodes announcing the IP (ServiceL2Status / ServiceBGPStatus), sorted. */
  readonly nodes: readonly string[];
  /** Absent when FRR has no route covering the IP. */
  readonly route?: FrrRoute;
  readonly answer: Answer;
}

/** Everything the sandbox reports once it is up. */
export interface Report {
  readonly rows: readonly Row[];
  /** From the start of the sandbox process to the table. */
  readonly elapsedMs: number;
  readonly prefix: string;
  readonly kubeconfig: string;
  /** The cluster's folder (`npm run cluster -- kubectl --dir DIR -- ...`). */
  readonly clusterDir: string;
  /** Folder where the cluster's logs are kept when `up` fails. */
  readonly logDir: string;
  /** Namespace of the client, for trying things by hand. */
  readonly clientNs: string;
  /** Seconds per phase (cluster up, image build and push, helm install, apps Ready). */
  readonly timings?: Readonly<Record<string, number>>;
}

export const HEADERS = ['SERVICE', 'IP', 'MODE', 'ANNOUNCED BY', 'FRR ROUTE', 'CLIENT GOT'] as const;

/** `ingress (app1.sandbox.test)` or `web`. */
export function serviceCell(r: Row): string {
  return r.hostName === undefined ? r.service : `${r.service} (${r.hostName})`;
}

/** `198.51.100.0/32 via 192.0.2.11 192.0.2.12` (bgp), `192.0.2.0/24 connected`, or `-`. */
export function routeCell(route: FrrRoute | undefined): string {
  if (route === undefined) return '-';
  if (route.source === 'connected') return `${route.prefix} connected`;
  const via = route.nextHops.length > 0 ? ` via ${route.nextHops.join(' ')}` : '';
  const tag = route.source === 'bgp' ? (route.installed === false ? ' (bgp, not in kernel)' : ' (bgp)') : ` (${route.source})`;
  return `${route.prefix}${via}${tag}`;
}

/** `200 app1 on node-2`, or the failure code. */
export function answerCell(a: Answer): string {
  if (!a.ok) return a.status === undefined ? a.code : `${a.status} ${a.code}`;
  return `${a.status ?? ''} ${a.body ?? ''}`.trim();
}

/** The rows as cells, header first. */
export function cells(rows: readonly Row[]): string[][] {
  return [[...HEADERS], ...rows.map((r) => [serviceCell(r), r.ip, r.mode, r.nodes.length > 0 ? r.nodes.join(' ') : '-', routeCell(r.route), answerCell(r.answer)])];
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
export function renderTable(rows: readonly Row[]): string {
  const grid = cells(rows);
  const widths = grid[0]?.map((_, i) => Math.max(...grid.map((line) => line[i]?.length ?? 0))) ?? [];
  return grid.map((line) => line.map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

/** A shell-quoted word for the hints (host names and IPs need none, but a path might). */
function sh(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** ` (cluster up 25.1 s, ...)` for the phases that were timed, or nothing. */
function timingsText(t: Readonly<Record<string, number>> | undefined): string {
  const parts = Object.entries(t ?? {}).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}

/** The table, the time it took, and how to poke at it. */
export function renderReport(r: Report): string {
  const byName = r.rows.find((x) => x.hostName !== undefined);
  const hints = [
    `up in ${(r.elapsedMs / 1000).toFixed(1)} s${timingsText(r.timings)}. Try it:`,
    `  npm run cluster -- kubectl --dir ${sh(r.clusterDir)} -- get pods,svc,servicel2statuses,servicebgpstatuses -A`,
    ...(byName?.hostName === undefined ? [] : [`  ip netns exec ${r.clientNs} curl -s --resolve ${byName.hostName}:80:${byName.ip} http://${byName.hostName}/`]),
    'Ctrl-C here, or `npm run sandbox -- down` from another terminal, removes everything.',
  ];
  return `${renderTable(r.rows)}\n${hints.join('\n')}\n`;
}

/** The report as one JSON line. */
export function reportJson(r: Report): string {
  return `${JSON.stringify(r)}\n`;
}

/** IPv4 text to a 32-bit number, or undefined. */
function v4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

/** Whether IPv4 `prefix` (`a.b.c.d/len`) holds `ip`. */
export function v4Contains(prefix: string, ip: string): boolean {
  const [net, lenText] = prefix.split('/');
  const len = Number(lenText ?? '32');
  const a = v4(net ?? '');
  const b = v4(ip);
  if (a === undefined || b === undefined || !Number.isInteger(len) || len < 0 || len > 32) return false;
  const size = 2 ** (32 - len);
  return Math.floor(a / size) === Math.floor(b / size);
}

/** A route as the lab reports FRR's BGP table and its namespace's kernel table. */
export interface RouteLike {
  readonly prefix: string;
  readonly nextHops: readonly string[];
  readonly protocol?: string;
}

/**
 * FRR's route for `ip`: its BGP route for `ip/32` if it holds one (installed if the kernel
 * table has the same prefix), else the most specific kernel route covering `ip` (for an L2
 * IP, the LAN's connected route).
 */
export function frrRouteFor(ip: string, bgp: readonly RouteLike[], kernel: readonly RouteLike[]): FrrRoute | undefined {
  const host = `${ip}/32`;
  const learned = bgp.find((r) => r.prefix === host);
  if (learned) return { source: 'bgp', prefix: host, nextHops: [...learned.nextHops], installed: kernel.some((k) => k.prefix === host && k.nextHops.length > 0) };
  const covering = kernel.filter((k) => v4Contains(k.prefix, ip)).sort((x, y) => Number(y.prefix.split('/')[1]) - Number(x.prefix.split('/')[1]))[0];
  if (!covering) return undefined;
  const source = covering.nextHops.length === 0 && covering.protocol === 'kernel' ? 'connected' : covering.protocol === 'bgp' ? 'bgp' : 'kernel';
  return { source, prefix: covering.prefix, nextHops: [...covering.nextHops] };
}
