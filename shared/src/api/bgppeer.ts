/**
 * BGPPeer: a BGP neighbor the speakers open sessions to (MetalLB metallb.io/v1beta2 BGPPeer;
 * Herald serves it as herald.io/v1beta1). Timers follow RFC 4271; ASNs are 4-octet (RFC 6793).
 * @packageDocumentation
 */
import { z } from 'zod';
import { DURATION_PATTERN, durationWholeSeconds, isWholeSeconds, parseDuration } from './duration.js';
import { celParseIP } from './ip.js';
import { defineKind, objectSchema } from './kind.js';
import { conditionList, InterfaceNameSchema, NamespaceNameSchema, ObjectNameSchema, selectorList } from './meta.js';
import { withRules } from './rules.js';

const NANOS_PER_SECOND = 1_000_000_000n;

/** A 4-octet AS number (RFC 6793), 0..4294967295; AS 0 is refused by a rule (RFC 7607). */
const asn = (name: string, description: string) =>
  withRules(z.int().min(0).max(4294967295), [
    {
      rule: 'self != 0',
      message: `${name} must not be 0: AS 0 is reserved and must not be used in a BGP session (RFC 7607)`,
      holds: (self) => self !== 0,
    },
  ]).meta({ description });

/** An IP address text (IPv6 can be 45 characters with an embedded dotted quad). */
const ipAddress = (name: string, description: string) =>
  withRules(z.string().min(1).max(45), [
    {
      rule: 'isIP(self)',
      message: `${name} must be an IPv4 or IPv6 address such as 192.0.2.1 or 2001:db8::1`,
      holds: (self) => celParseIP(self) !== undefined,
    },
  ]).meta({ description });

/** A Go duration such as "90s" or "1m30s". */
const duration = () => z.string().min(1).max(32).regex(new RegExp(DURATION_PATTERN));

// RFC 4271 4.2: the OPEN message carries the hold time as 2 octets of whole seconds.
const wholeSecondsUpTo65535 = (name: string) => ({
  rule: 'duration(self).getMilliseconds() % 1000 == 0 && duration(self).getSeconds() <= 65535',
  message: `${name} must be a whole number of seconds, at most 65535s (RFC 4271 4.2)`,
  holds: (self: string) => isWholeSeconds(self) && (durationWholeSeconds(self) ?? 0n) <= 65535n,
});

/** A reference to a Secret holding the TCP MD5 password (core/v1 SecretReference). */
export const PasswordSecretSchema = z
  .object({
    name: ObjectNameSchema.optional().meta({ description: 'Name of the Secret.' }),
    namespace: NamespaceNameSchema.optional().meta({
      description: "Namespace of the Secret; Herald reads it only from its own namespace.",
    }),
  })
  .meta({
    description:
      "Secret of type kubernetes.io/basic-auth whose 'password' key holds the TCP MD5 password (RFC 2385), in Herald's namespace.",
    'x-kubernetes-map-type': 'atomic',
  });

const BGPPeerSpecObject = z.object({
  myASN: asn('myASN', 'AS number of the local end of the session.'),
  peerASN: asn('peerASN', 'AS number expected from the peer. Exactly one of peerASN and dynamicASN must be set.').optional(),
  dynamicASN: z
    .enum(['internal', 'external'])
    .optional()
    .meta({
      description:
        "Accept the peer's AS number from its OPEN message instead of fixing it: internal requires it to equal myASN (iBGP), external requires it to differ (eBGP). Exactly one of peerASN and dynamicASN must be set.",
    }),
  peerAddress: ipAddress('peerAddress', 'Address to dial when establishing the session.'),
  peerPort: z.int().min(1).max(65535).default(179).meta({ description: 'TCP port to dial (RFC 4271 8.2.1: 179).' }),
  sourceAddress: ipAddress(
    'sourceAddress',
    'Local address to dial from; it must be configured on the node. Defaults to what the routing table picks.',
  ).optional(),
  holdTime: withRules(duration(), [
    {
      rule: "duration(self) == duration('0s') || duration(self) >= duration('3s')",
      message: 'holdTime must be 0s (no keepalives) or at least 3s (RFC 4271 4.2)',
      holds: (self) => {
        const ns = parseDuration(self);
        return ns === undefined || ns === 0n || ns >= 3n * NANOS_PER_SECOND;
      },
    },
    wholeSecondsUpTo65535('holdTime'),
  ])
    .optional()
    .meta({
      description:
        'Proposed BGP hold time (RFC 4271 4.2), e.g. 90s; the session uses the smaller of both ends. Defaults to 3 x keepaliveTime, or 90s.',
    }),
  keepaliveTime: withRules(duration(), [wholeSecondsUpTo65535('keepaliveTime')])
    .optional()
    .meta({
      description: 'Interval between KEEPALIVE messages (RFC 4271 4.4), e.g. 30s. Defaults to holdTime / 3.',
    }),
  connectTime: withRules(duration(), [
    {
      rule: 'duration(self).getSeconds() >= 1 && duration(self).getSeconds() <= 65535',
      message: 'connectTime must be between 1s and 65535s',
      holds: (self) => {
        const s = durationWholeSeconds(self);
        return s === undefined || (s >= 1n && s <= 65535n);
      },
    },
    {
      rule: 'duration(self).getMilliseconds() % 1000 == 0',
      message: 'connectTime must be a whole number of seconds',
      holds: isWholeSeconds,
    },
  ])
    .optional()
    .meta({ description: 'Wait between connection attempts (RFC 4271 ConnectRetryTime), e.g. 10s.' }),
  routerID: withRules(z.string().min(1).max(15), [
    {
      rule: 'isIP(self) && ip(self).family() == 4',
      message: 'routerID must be an IPv4 address such as 192.0.2.1 (RFC 4271 4.2: BGP Identifier is 4 octets)',
      holds: (self) => celParseIP(self)?.family === 4,
    },
  ])
    .optional()
    .meta({ description: "BGP Identifier to send (RFC 4271 4.2). Defaults to the node's IPv4 address." }),
  nodeSelectors: selectorList('Only nodes matching one of these selectors peer; empty means every node.'),
  password: withRules(z.string().min(1).max(80), [
    {
      rule: "!self.contains('\\n') && !self.contains('\\r')",
      message: 'password must not contain line breaks',
      holds: (self) => !self.includes('\n') && !self.includes('\r'),
    },
  ])
    .optional()
    .meta({
      description:
        'TCP MD5 signature password (RFC 2385), at most 80 bytes (Linux TCP_MD5SIG_MAXKEYLEN). Prefer passwordSecret.',
    }),
  passwordSecret: PasswordSecretSchema.optional(),
  bfdProfile: ObjectNameSchema.optional().meta({
    description: 'Name of a BFDProfile to run BFD (RFC 5880) with this peer; unset means no BFD.',
  }),
  enableGracefulRestart: withRules(z.boolean(), [
    {
      rule: 'self == oldSelf',
      message: 'enableGracefulRestart cannot be changed after creation: delete and recreate the BGPPeer',
      transition: true,
    },
  ])
    .optional()
    .meta({
      description:
        'Advertise the Graceful Restart capability (RFC 4724) so the peer keeps routes while a speaker restarts. Immutable.',
    }),
  ebgpMultiHop: z
    .boolean()
    .optional()
    .meta({ description: 'The eBGP peer is more than one hop away (TTL above 1). Not allowed for iBGP peers.' }),
  vrf: withRules(InterfaceNameSchema, [
    {
      rule: 'false',
      message:
        'vrf is not supported: Herald opens every session from the default VRF, and VRF devices cannot be built or tested on the machines Herald is proven on, so it refuses the field rather than ignore it (docs/bgp-quickstart.md)',
      reason: 'FieldValueForbidden',
      holds: () => false,
    },
  ])
    .optional()
    .meta({
      description: 'Not supported: refused at admission (sessions always leave from the default VRF). Kept for MetalLB compatibility of the field name.',
    }),
  disableMP: withRules(z.boolean(), [
    {
      rule: '!self',
      message:
        'disableMP: true is not supported: Herald carries IPv4 and IPv6 routes on one multiprotocol session (RFC 4760) or on sessions of their own family per dualStackAddressFamily; remove the field',
      reason: 'FieldValueForbidden',
      holds: (self) => !self,
    },
  ])
    .default(false)
    .meta({
      description: 'Deprecated in MetalLB; only false is accepted (use dualStackAddressFamily).',
    }),
  dualStackAddressFamily: z
    .boolean()
    .default(false)
    .meta({
      description:
        'Exchange both IPv4 and IPv6 routes on this session (RFC 4760 multiprotocol), whatever its transport family.',
    }),
});

type BGPPeerSpecShape = z.output<typeof BGPPeerSpecObject>;

function ibgp(spec: BGPPeerSpecShape): boolean {
  return spec.peerASN === spec.myASN || spec.dynamicASN === 'internal';
}

/** BGPPeer.spec, with the cross-field rules. */
export const BGPPeerSpecSchema = withRules(BGPPeerSpecObject, [
  {
    rule: 'has(self.peerASN) != has(self.dynamicASN)',
    message: 'set exactly one of peerASN and dynamicASN',
    holds: (self) => (self.peerASN === undefined) !== (self.dynamicASN === undefined),
  },
  {
    rule: '!has(self.holdTime) || !has(self.keepaliveTime) || duration(self.keepaliveTime) <= duration(self.holdTime)',
    message: 'keepaliveTime must not be longer than holdTime (RFC 4271 4.4: one third of it is usual)',
    fieldPath: '.keepaliveTime',
    holds: (self) => {
      if (self.holdTime === undefined || self.keepaliveTime === undefined) return true;
      const hold = parseDuration(self.holdTime);
      const keepalive = parseDuration(self.keepaliveTime);
      return hold === undefined || keepalive === undefined || keepalive <= hold;
    },
  },
  {
    rule: "!has(self.password) || !has(self.passwordSecret) || !has(self.passwordSecret.name)",
    message: 'set password or passwordSecret, not both',
    reason: 'FieldValueForbidden',
    fieldPath: '.password',
    holds: (self) => self.password === undefined || self.passwordSecret?.name === undefined,
  },
  {
    rule: '!has(self.sourceAddress) || !isIP(self.sourceAddress) || !isIP(self.peerAddress) || ip(self.sourceAddress).family() == ip(self.peerAddress).family()',
    message: 'sourceAddress must be of the same IP family as peerAddress',
    fieldPath: '.sourceAddress',
    holds: (self) => {
      if (self.sourceAddress === undefined) return true;
      const src = celParseIP(self.sourceAddress);
      const peer = celParseIP(self.peerAddress);
      return src === undefined || peer === undefined || src.family === peer.family;
    },
  },
  {
    rule: "!has(self.ebgpMultiHop) || !self.ebgpMultiHop || !((has(self.peerASN) && self.peerASN == self.myASN) || (has(self.dynamicASN) && self.dynamicASN == 'internal'))",
    message: 'ebgpMultiHop applies to eBGP only: unset it, as this peer is iBGP (peerASN equals myASN or dynamicASN is internal)',
    fieldPath: '.ebgpMultiHop',
    holds: (self) => self.ebgpMultiHop !== true || !ibgp(self),
  },
]).meta({ description: 'How to reach the peer and what to negotiate with it.' });
/** BGPPeer.spec after defaults. */
export type BGPPeerSpec = z.infer<typeof BGPPeerSpecSchema>;

/** BGPPeer.status: nothing yet; session state is in BGPSessionState. */
export const BGPPeerStatusSchema = z
  .object({
    conditions: conditionList(),
  })
  .meta({ description: 'Observed state: the Valid condition, written by the controller (is this object in force as written, or is its last valid version?).' });
/** BGPPeer.status. */
export type BGPPeerStatus = z.infer<typeof BGPPeerStatusSchema>;

/** A whole BGPPeer object. */
export const BGPPeerSchema = objectSchema('BGPPeer', BGPPeerSpecSchema, BGPPeerStatusSchema);
/** A BGPPeer after parsing (defaults applied). */
export type BGPPeer = z.infer<typeof BGPPeerSchema>;
/** A BGPPeer as written by a user. */
export type BGPPeerInput = z.input<typeof BGPPeerSchema>;

/** Identity and CRD presentation of BGPPeer. */
export const BGPPeerKind = defineKind({
  kind: 'BGPPeer',
  plural: 'bgppeers',
  shortNames: ['hpeer'],
  description: 'BGPPeer is a BGP neighbor (RFC 4271) that Herald speakers open sessions to and announce addresses to.',
  schema: BGPPeerSchema,
  printerColumns: [
    { name: 'Address', type: 'string', jsonPath: '.spec.peerAddress' },
    { name: 'ASN', type: 'integer', jsonPath: '.spec.peerASN' },
    { name: 'Dynamic ASN', type: 'string', jsonPath: '.spec.dynamicASN', priority: 1 },
    { name: 'BFD Profile', type: 'string', jsonPath: '.spec.bfdProfile' },
    { name: 'Multi Hops', type: 'boolean', jsonPath: '.spec.ebgpMultiHop' },
  ],
});
