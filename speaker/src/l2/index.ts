/** L2 announcement: pure packet codecs (Ethernet, ARP, NDP) and owner election. No I/O. */
export * from './ethernet.js';
export * from './arp.js';
export * from './ndp.js';
export * from './election.js';
export { fnv1a64, fmix64 } from './hash.js';
