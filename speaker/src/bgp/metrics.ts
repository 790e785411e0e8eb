import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The BGP half's Prometheus metrics. Names are public interface (see docs). Labels are the
 * BGPPeer name and address: bounded by the configuration. Values are copied from the sessions
 * at scrape time (`BgpController.refreshMetrics`), so the message path never touches prom-client.
 */
export class BgpMetrics {
  readonly sessionUp: Gauge<'peer' | 'address'>;
  readonly updatesSent: Gauge<'peer' | 'address'>;
  readonly prefixesAnnounced: Gauge<'peer' | 'address'>;
  readonly bfdUp: Gauge<'peer' | 'address'>;
  readonly sessionDowns: Counter<'peer' | 'reason'>;

  constructor(registry: Registry) {
    const labelNames = ['peer', 'address'] as const;
    const registers = [registry];
    this.sessionUp = new Gauge({ name: 'herald_bgp_session_up', help: '1 while the BGP session with the peer is Established (RFC 4271 8.2.2), else 0.', labelNames, registers });
    this.updatesSent = new Gauge({ name: 'herald_bgp_updates_sent_total', help: 'UPDATE messages sent to the peer (a counter kept by the session; restarts with the speaker).', labelNames, registers });
    this.prefixesAnnounced = new Gauge({ name: 'herald_bgp_announced_prefixes', help: 'Prefixes announced to the peer now (0 while the session is down).', labelNames, registers });
    this.sessionDowns = new Counter({
      name: 'herald_bgp_session_down_total',
      help: 'Sessions that went down, by BGPPeer and reason (e.g. notificationReceived, holdTimerExpired, bfdDown, tcpConnectionFails, or the NOTIFICATION we sent for malformed input: updateMessageError, messageHeaderError...).',
      labelNames: ['peer', 'reason'],
      registers,
    });
    this.bfdUp = new Gauge({ name: 'herald_bfd_session_up', help: '1 while the BFD session with the peer is Up (RFC 5880 6.2), else 0; absent without a BFDProfile.', labelNames, registers });
  }
}
