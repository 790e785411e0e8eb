/**
 * bgp-speaker-lite: BGP-4 (RFC 4271) with the extensions a load balancer needs, and BFD
 * (RFC 5880). Pure cores (codec, session state machine, BFD state machine) with the I/O at
 * the edge. Imports nothing from Kubernetes.
 * @packageDocumentation
 */
export { FakeClock, systemClock, type Clock, type TimerHandle } from './clock.js';
export * from './codec/index.js';
export * as fsm from './fsm/index.js';
export * as bfd from './bfd/index.js';
export * from './peer/index.js';
