/**
 * ServiceBGPStatus: the BGP peers a node is configured to announce a Service to, written by
 * that node's speaker (MetalLB metallb.io/v1beta1 ServiceBGPStatus). Status only.
 * @packageDocumentation
 */
import { z } from 'zod';
import { defineKind, objectSchema } from './kind.js';
import { immutable, NamespaceNameSchema, NodeNameSchema, ObjectNameSchema, ServiceNameSchema } from './meta.js';

/** ServiceBGPStatus.spec: empty; the object is all status. */
export const ServiceBGPStatusSpecSchema = z.object({}).meta({ description: 'Empty: this object only reports status.' });
/** ServiceBGPStatus.spec. */
export type ServiceBGPStatusSpec = z.infer<typeof ServiceBGPStatusSpecSchema>;

/** ServiceBGPStatus.status. */
export const ServiceBGPStatusStatusSchema = z
  .object({
    node: immutable(NodeNameSchema, 'node').optional().meta({ description: 'Node announcing the Service.' }),
    serviceName: immutable(ServiceNameSchema, 'serviceName')
      .optional()
      .meta({ description: 'Name of the Service this status is about.' }),
    serviceNamespace: immutable(NamespaceNameSchema, 'serviceNamespace')
      .optional()
      .meta({ description: 'Namespace of the Service.' }),
    peers: z
      .array(ObjectNameSchema)
      .max(256)
      .optional()
      .meta({
        description:
          'BGPPeers the Service is configured to be announced to from this node; whether a session is up is in BGPSessionState.',
      }),
  })
  .meta({ description: 'Which peers a node announces the Service to.' });
/** ServiceBGPStatus.status. */
export type ServiceBGPStatusStatus = z.infer<typeof ServiceBGPStatusStatusSchema>;

/** A whole ServiceBGPStatus object. */
export const ServiceBGPStatusSchema = objectSchema(
  'ServiceBGPStatus',
  ServiceBGPStatusSpecSchema.optional(),
  ServiceBGPStatusStatusSchema,
);
/** A ServiceBGPStatus after parsing. */
export type ServiceBGPStatus = z.infer<typeof ServiceBGPStatusSchema>;
/** A ServiceBGPStatus as written by the speaker. */
export type ServiceBGPStatusInput = z.input<typeof ServiceBGPStatusSchema>;

/** Identity and CRD presentation of ServiceBGPStatus. */
export const ServiceBGPStatusKind = defineKind({
  kind: 'ServiceBGPStatus',
  plural: 'servicebgpstatuses',
  shortNames: ['hbgpstatus'],
  description: 'ServiceBGPStatus reports the BGP peers a node announces a LoadBalancer Service to.',
  schema: ServiceBGPStatusSchema,
  printerColumns: [
    { name: 'Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Service Name', type: 'string', jsonPath: '.status.serviceName' },
    { name: 'Service Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
  ],
});
