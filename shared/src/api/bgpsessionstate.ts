/**
 * BGPSessionState: the state of one BGP session (and its BFD session) on one node, written by
 * that node's speaker (MetalLB/frr-k8s BGPSessionState). Status only. Herald adds
 * establishedSince, prefixesSent and lastError.
 * @packageDocumentation
 */
import { z } from 'zod';
import { defineKind, objectSchema } from './kind.js';
import { immutable, InterfaceNameSchema, NodeNameSchema } from './meta.js';
import { withRules } from './rules.js';

/** BGP finite state machine states (RFC 4271 section 8.2.2). */
export const BGP_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;
/** A BGP FSM state. */
export type BGPState = (typeof BGP_STATES)[number];

/** BFD session states (RFC 5880 section 6.2), or N/A when the peer has no BFDProfile. */
export const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up', 'N/A'] as const;
/** A BFD session state. */
export type BFDState = (typeof BFD_STATES)[number];

/** BGPSessionState.spec: empty; the object is all status. */
export const BGPSessionStateSpecSchema = z.object({}).meta({ description: 'Empty: this object only reports status.' });
/** BGPSessionState.spec. */
export type BGPSessionStateSpec = z.infer<typeof BGPSessionStateSpecSchema>;

/** BGPSessionState.status. */
export const BGPSessionStateStatusSchema = withRules(
  z.object({
    node: immutable(NodeNameSchema, 'node').optional().meta({ description: 'Node the session runs on.' }),
    peer: immutable(z.string().min(1).max(45), 'peer')
      .optional()
      .meta({ description: "Address of the neighbor (the BGPPeer's peerAddress)." }),
    vrf: immutable(InterfaceNameSchema, 'vrf')
      .optional()
      .meta({ description: 'VRF the session runs in; unset for the default VRF.' }),
    bgpStatus: z
      .enum(BGP_STATES)
      .optional()
      .meta({ description: 'State of the BGP finite state machine (RFC 4271 8.2.2).' }),
    bfdStatus: z
      .enum(BFD_STATES)
      .optional()
      .meta({ description: 'State of the BFD session (RFC 5880 6.2); N/A when the peer uses no BFDProfile.' }),
    establishedSince: z.iso
      .datetime({ offset: true })
      .optional()
      .meta({
        description:
          'When the session last reached Established (RFC 3339); set only while Established. Uptime is now minus this, so the object need not be rewritten every second.',
      }),
    prefixesSent: z
      .int()
      .min(0)
      .optional()
      .meta({ description: 'Number of prefixes currently announced to the peer on this session.' }),
    lastError: z
      .string()
      .max(1024)
      .optional()
      .meta({
        description:
          'Last error that took the session down, e.g. a NOTIFICATION received (RFC 4271 6) or a dial failure.',
      }),
  }),
  [
    {
      rule: "!has(self.establishedSince) || (has(self.bgpStatus) && self.bgpStatus == 'Established')",
      message: 'establishedSince is set only while bgpStatus is Established: clear it when the session goes down',
      fieldPath: '.establishedSince',
      holds: (self) => self.establishedSince === undefined || self.bgpStatus === 'Established',
    },
  ],
).meta({ description: 'State of one BGP session on one node.' });
/** BGPSessionState.status. */
export type BGPSessionStateStatus = z.infer<typeof BGPSessionStateStatusSchema>;

/** A whole BGPSessionState object. */
export const BGPSessionStateSchema = objectSchema(
  'BGPSessionState',
  BGPSessionStateSpecSchema.optional(),
  BGPSessionStateStatusSchema,
);
/** A BGPSessionState after parsing. */
export type BGPSessionState = z.infer<typeof BGPSessionStateSchema>;
/** A BGPSessionState as written by the speaker. */
export type BGPSessionStateInput = z.input<typeof BGPSessionStateSchema>;

/** Identity and CRD presentation of BGPSessionState. */
export const BGPSessionStateKind = defineKind({
  kind: 'BGPSessionState',
  plural: 'bgpsessionstates',
  shortNames: ['hsession'],
  description: 'BGPSessionState reports the state of one BGP session, and of its BFD session, on one node.',
  schema: BGPSessionStateSchema,
  printerColumns: [
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Peer', type: 'string', jsonPath: '.status.peer' },
    { name: 'VRF', type: 'string', jsonPath: '.status.vrf' },
    { name: 'BGP', type: 'string', jsonPath: '.status.bgpStatus' },
    { name: 'BFD', type: 'string', jsonPath: '.status.bfdStatus' },
    { name: 'Established Since', type: 'date', jsonPath: '.status.establishedSince', priority: 1 },
    { name: 'Prefixes Sent', type: 'integer', jsonPath: '.status.prefixesSent', priority: 1 },
  ],
});
