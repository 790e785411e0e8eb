/** L2 announcement: pure packet codecs (Ethernet, ARP, NDP), eligibility and owner election; interface discovery at the edge. */
export * from './ethernet.js';
export * from './arp.js';
export * from './ndp.js';
export * from './election.js';
export { fnv1a64, fmix64 } from './hash.js';
export * from './eligibility.js';
export * from './interfaces.js';
