import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';

/**
 * nftables scripts (`nft -f -` input) for Lab.dnat: what kube-proxy does for a
 * LoadBalancer IP on a node, reduced to one DNAT rule per (VIP, port) in the
 * host's own namespace. Pure: the lab runs them.
 *
 * Every rule carries a comment naming its VIP and port; that comment is its key,
 * so re-adding the same VIP and port replaces the rule and undnat finds all of a
 * VIP's rules.
 */
export const NAT_TABLE = 'herald_lab';
export const NAT_CHAIN = 'prerouting';

/** One DNAT: TCP to `vip:port` becomes TCP to `to:toPort` (an address of the same family). */
export interface DnatRule {
  readonly vip: string;
  readonly port: number;
  readonly to: string;
  readonly toPort: number;
}

/** The canonical text of an IP address (lower case, IPv6 compressed), or undefined if `text` is none. */
export function canonicalIp(text: string): { ip: string; family: 4 | 6 } | undefined {
  if (isIPv4(text)) return { ip: text, family: 4 };
  if (!isIPv6(text) || text.includes('%')) return undefined;
  // The URL parser serialises IPv6 hosts canonically (RFC 5952): 2001:DB8:0::0100 -> 2001:db8::100.
  return { ip: new URL(`http://[${text}]/`).hostname.slice(1, -1), family: 6 };
}

const COMMENT_PREFIX = 'herald-lab dnat';

/** The comment that keys a rule: `herald-lab dnat VIP port PORT`. */
export function dnatComment(vip: string, port: number): string {
  return `${COMMENT_PREFIX} ${vip} port ${port}`;
}

/** Whether a rule's comment marks it as one of `vip`'s (any port). */
export function isVipComment(comment: string | undefined, vip: string): boolean {
  return comment !== undefined && comment.startsWith(`${COMMENT_PREFIX} ${vip} port `);
}

/** Creates the table and the chain unless they exist (`add` is idempotent for both). */
const ENSURE_CHAIN = [
  `add table inet ${NAT_TABLE}`,
  `add chain inet ${NAT_TABLE} ${NAT_CHAIN} { type nat hook prerouting priority dstnat; policy accept; }`,
];

const deleteRule = (handle: number): string => `delete rule inet ${NAT_TABLE} ${NAT_CHAIN} handle ${handle}`;

/** The rule itself, in nft syntax. `rule.vip` and `rule.to` must be canonical addresses of one family. */
export function dnatRuleText(rule: DnatRule): string {
  const v6 = rule.vip.includes(':');
  const match = `${v6 ? 'ip6' : 'ip'} daddr ${rule.vip} tcp dport ${rule.port}`;
  const to = v6 ? `dnat ip6 to [${rule.to}]:${rule.toPort}` : `dnat ip to ${rule.to}:${rule.toPort}`;
  return `add rule inet ${NAT_TABLE} ${NAT_CHAIN} ${match} counter ${to} comment "${dnatComment(rule.vip, rule.port)}"`;
}

/**
 * One transaction: the table and chain if missing, the rules in `replace` (handles
 * of the same VIP and port, found by {@link ruleHandles}) deleted, the new rule added.
 */
export function dnatScript(rule: DnatRule, replace: readonly number[]): string {
  return [...ENSURE_CHAIN, ...replace.map(deleteRule), dnatRuleText(rule)].join('\n') + '\n';
}

/** One transaction deleting the rules with these handles. */
export function deleteScript(handles: readonly number[]): string {
  return handles.map(deleteRule).join('\n') + '\n';
}

/** The chain's listing command (`nft -j`); it fails with ENOENT while the table or chain does not exist. */
export const LIST_CHAIN_ARGS: readonly string[] = ['-j', 'list', 'chain', 'inet', NAT_TABLE, NAT_CHAIN];

const nftJson = z.looseObject({ nftables: z.array(z.unknown()) });
const ruleEntry = z.looseObject({ rule: z.looseObject({ handle: z.number(), comment: z.string().optional() }) });

/** Handles of the rules in `nft -j list chain` output whose comment passes `keep`. Throws on output that is no nft JSON. */
export function ruleHandles(json: string, keep: (comment: string | undefined) => boolean): number[] {
  const out: number[] = [];
  for (const item of nftJson.parse(JSON.parse(json)).nftables) {
    const r = ruleEntry.safeParse(item);
    if (r.success && keep(r.data.rule.comment)) out.push(r.data.rule.handle);
  }
  return out;
}
