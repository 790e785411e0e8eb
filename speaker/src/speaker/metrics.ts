import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BgpMetrics } from '../bgp/metrics.js';

/**
 * The speaker's Prometheus metrics. Names are part of Herald's public interface: change
 * them only with a deprecation. Labels are bounded: protocols, interfaces, fixed reasons.
 * Counters kept by the announcers and the membership core are read at scrape time
 * (`collect`), so the hot paths never touch prom-client.
 */
export class SpeakerMetrics {
  readonly registry = new Registry();
  readonly requestsAnswered = new Gauge({ name: 'herald_l2_requests_answered_total', help: 'ARP requests and neighbour solicitations answered, per protocol and interface (a counter kept by the announcer; reset when an interface stops being used).', labelNames: ['protocol', 'interface'], registers: [this.registry] });
  readonly gratuitousSent = new Gauge({ name: 'herald_l2_gratuitous_sent_total', help: 'Gratuitous ARPs and unsolicited neighbour advertisements sent, per protocol and interface.', labelNames: ['protocol', 'interface'], registers: [this.registry] });
  readonly framesDropped = new Gauge({ name: 'herald_l2_frames_dropped_total', help: 'Received ARP/NDP frames not answered, per protocol and reason (not ours, malformed, ...).', labelNames: ['protocol', 'reason'], registers: [this.registry] });
  readonly ownershipChanges = new Counter({ name: 'herald_l2_ownership_changes_total', help: 'IPs this node started (gained) or stopped (lost) announcing.', labelNames: ['change'], registers: [this.registry] });
  readonly ownedIPs = new Gauge({ name: 'herald_l2_owned_ips', help: 'IPs this node announces now.', registers: [this.registry] });
  readonly members = new Gauge({ name: 'herald_membership_members', help: 'Speakers by liveness as this speaker sees them (alive, notAlive).', labelNames: ['state'], registers: [this.registry] });
  readonly membershipUp = new Gauge({ name: 'herald_membership_up', help: '1 while UDP membership runs; 0 while liveness relies on Leases only.', registers: [this.registry] });
  readonly gossipDropped = new Gauge({ name: 'herald_membership_dropped_total', help: 'Gossip datagrams dropped, by reason (badTag: not signed with our key).', labelNames: ['reason'], registers: [this.registry] });
  readonly statusWrites = new Counter({ name: 'herald_l2_status_writes_total', help: 'ServiceL2Status writes by action and outcome.', labelNames: ['action', 'outcome'], registers: [this.registry] });
  readonly eventsDropped = new Counter({ name: 'herald_speaker_events_dropped_total', help: 'Kubernetes Events not written.', labelNames: ['reason'], registers: [this.registry] });

  readonly bgp = new BgpMetrics(this.registry);

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'herald_speaker_' });
  }
}
