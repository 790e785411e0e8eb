/**
 * BFDProfile: Bidirectional Forwarding Detection (RFC 5880) settings a BGPPeer can use to
 * detect a dead path faster than the BGP hold timer (MetalLB metallb.io/v1beta1 BFDProfile).
 * Ranges and defaults are MetalLB's (FRR's bfdd); intervals are in milliseconds.
 * @packageDocumentation
 */
import { z } from 'zod';
import { conditionList } from './meta.js';
import { withRules } from './rules.js';
import { defineKind, objectSchema } from './kind.js';

// RFC 5880 4.1 carries intervals in microseconds (32 bits); MetalLB/FRR accept 10ms..60s.
const interval = (defaultMs: number, description: string) =>
  z.int().min(10).max(60000).default(defaultMs).meta({ description });

/** BFDProfile.spec. Every field is optional and defaulted. */
export const BFDProfileSpecSchema = z
  .object({
    receiveInterval: interval(
      300,
      'Minimum interval, in milliseconds, at which this system can receive control packets (RFC 5880 Required Min RX Interval).',
    ),
    transmitInterval: interval(
      300,
      'Minimum interval, in milliseconds, at which this system wants to send control packets, before jitter (RFC 5880 Desired Min TX Interval).',
    ),
    detectMultiplier: z
      .int()
      .min(2)
      .max(255)
      .default(3)
      .meta({
        description:
          'Detection time multiplier (RFC 5880 4.1 Detect Mult): the session goes down after this many missed packets.',
      }),
    echoInterval: interval(
      50,
      'Minimum interval, in milliseconds, at which this system can receive echo packets (RFC 5880 Required Min Echo RX Interval).',
    ),
    echoMode: withRules(z.boolean(), [
      {
        rule: '!self',
        message: 'echoMode: true is not supported: Herald does not implement the BFD Echo function (RFC 5880 6.4); remove the field or set it false',
        reason: 'FieldValueForbidden',
        holds: (self) => !self,
      },
    ])
      .default(false)
      .meta({ description: 'Only false is accepted: Herald does not implement the BFD Echo function (RFC 5880 6.4).' }),
    passiveMode: z
      .boolean()
      .default(false)
      .meta({
        description: 'Wait for the peer to send control packets before sending any (RFC 5880 6.1 passive role).',
      }),
    minimumTtl: z
      .int()
      .min(1)
      .max(254)
      .default(254)
      .meta({ description: 'Multi-hop sessions only: the lowest TTL accepted on incoming control packets.' }),
  })
  .meta({ description: 'BFD session parameters.' });
/** BFDProfile.spec after defaults. */
export type BFDProfileSpec = z.infer<typeof BFDProfileSpecSchema>;

/** BFDProfile.status: nothing yet; session state is in BGPSessionState. */
export const BFDProfileStatusSchema = z
  .object({
    conditions: conditionList(),
  })
  .meta({ description: 'Observed state: the Valid condition, written by the controller (is this object in force as written, or is its last valid version?).' });
/** BFDProfile.status. */
export type BFDProfileStatus = z.infer<typeof BFDProfileStatusSchema>;

/** A whole BFDProfile object; a missing spec is an empty one, with defaults. */
export const BFDProfileSchema = objectSchema('BFDProfile', BFDProfileSpecSchema.prefault({}), BFDProfileStatusSchema);
/** A BFDProfile after parsing (defaults applied). */
export type BFDProfile = z.infer<typeof BFDProfileSchema>;
/** A BFDProfile as written by a user. */
export type BFDProfileInput = z.input<typeof BFDProfileSchema>;

/** Identity and CRD presentation of BFDProfile. */
export const BFDProfileKind = defineKind({
  kind: 'BFDProfile',
  plural: 'bfdprofiles',
  shortNames: ['hbfd'],
  description: 'BFDProfile holds the settings of the BFD session (RFC 5880) that a BGPPeer may run alongside BGP.',
  schema: BFDProfileSchema,
  printerColumns: [
    { name: 'Passive Mode', type: 'boolean', jsonPath: '.spec.passiveMode' },
    { name: 'Transmit Interval', type: 'integer', jsonPath: '.spec.transmitInterval' },
    { name: 'Receive Interval', type: 'integer', jsonPath: '.spec.receiveInterval' },
    { name: 'Multiplier', type: 'integer', jsonPath: '.spec.detectMultiplier' },
  ],
});
