/** Speaker membership: SWIM failure detection over authenticated UDP (ADR 0006). */
export * from './codec.js';
export * from './swim.js';
export * from './udp.js';
