/**
 * ServiceL2Status: which node answers ARP/NDP for a Service, written by the speaker that won
 * the election (MetalLB metallb.io/v1beta1 ServiceL2Status). Status only.
 * @packageDocumentation
 */
import { z } from 'zod';
import { defineKind, objectSchema } from './kind.js';
import { immutable, InterfaceNameSchema, NamespaceNameSchema, NodeNameSchema, ServiceNameSchema } from './meta.js';

/** ServiceL2Status.spec: empty; the object is all status. */
export const ServiceL2StatusSpecSchema = z.object({}).meta({ description: 'Empty: this object only reports status.' });
/** ServiceL2Status.spec. */
export type ServiceL2StatusSpec = z.infer<typeof ServiceL2StatusSpecSchema>;

/** An interface the node announces from. */
export const InterfaceInfoSchema = z
  .object({ name: InterfaceNameSchema.meta({ description: 'Interface name.' }) })
  .meta({ description: 'A network interface.' });

/** ServiceL2Status.status. */
export const ServiceL2StatusStatusSchema = z
  .object({
    node: immutable(NodeNameSchema, 'node').optional().meta({ description: 'Node that receives the traffic.' }),
    serviceName: immutable(ServiceNameSchema, 'serviceName')
      .optional()
      .meta({ description: 'Name of the Service this status is about.' }),
    serviceNamespace: immutable(NamespaceNameSchema, 'serviceNamespace')
      .optional()
      .meta({ description: 'Namespace of the Service.' }),
    interfaces: z
      .array(InterfaceInfoSchema)
      .max(64)
      .optional()
      .meta({ description: 'Interfaces the node announces the Service addresses from.' }),
  })
  .meta({ description: 'Where layer-2 traffic for the Service arrives.' });
/** ServiceL2Status.status. */
export type ServiceL2StatusStatus = z.infer<typeof ServiceL2StatusStatusSchema>;

/** A whole ServiceL2Status object. */
export const ServiceL2StatusSchema = objectSchema(
  'ServiceL2Status',
  ServiceL2StatusSpecSchema.optional(),
  ServiceL2StatusStatusSchema,
);
/** A ServiceL2Status after parsing. */
export type ServiceL2Status = z.infer<typeof ServiceL2StatusSchema>;
/** A ServiceL2Status as written by the speaker. */
export type ServiceL2StatusInput = z.input<typeof ServiceL2StatusSchema>;

/** Identity and CRD presentation of ServiceL2Status. */
export const ServiceL2StatusKind = defineKind({
  kind: 'ServiceL2Status',
  plural: 'servicel2statuses',
  shortNames: ['hl2status'],
  description: 'ServiceL2Status reports which node announces a LoadBalancer Service over layer 2, and from which interfaces.',
  schema: ServiceL2StatusSchema,
  printerColumns: [
    { name: 'Allocated Node', type: 'string', jsonPath: '.status.node' },
    { name: 'Service Name', type: 'string', jsonPath: '.status.serviceName' },
    { name: 'Service Namespace', type: 'string', jsonPath: '.status.serviceNamespace' },
  ],
});
