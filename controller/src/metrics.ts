import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The controller's Prometheus metrics. Names are part of Herald's public
 * interface (docs/metrics.md): change them only with a deprecation.
 * Labels are bounded: pool names, families, and fixed reason sets.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly poolAddresses = new Gauge({ name: 'herald_pool_addresses_total', help: 'Usable addresses in a pool, per family (float: IPv6 pools may exceed 2^53).', labelNames: ['pool', 'family'], registers: [this.registry] });
  readonly poolInUse = new Gauge({ name: 'herald_pool_addresses_in_use', help: 'Addresses of a pool assigned to Services, per family.', labelNames: ['pool', 'family'], registers: [this.registry] });
  readonly allocations = new Counter({ name: 'herald_allocations_total', help: 'IP assignment changes by action (Allocated, Moved, Released).', labelNames: ['action'], registers: [this.registry] });
  readonly failures = new Counter({ name: 'herald_allocation_failures_total', help: 'Services left without an IP, by reason.', labelNames: ['reason'], registers: [this.registry] });
  readonly reconcileSeconds = new Histogram({
    name: 'herald_reconcile_duration_seconds',
    help: 'Time to reconcile one key, by kind (service, pool) and result.',
    labelNames: ['kind', 'result'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({ name: 'herald_status_writes_total', help: 'Status writes by object kind and outcome.', labelNames: ['kind', 'outcome'], registers: [this.registry] });
  readonly eventsDropped = new Counter({ name: 'herald_events_dropped_total', help: 'Kubernetes Events not written: the paced backlog was full.', labelNames: ['reason'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'herald_workqueue_depth', help: 'Keys queued, waiting or in flight in the controller work queue.', registers: [this.registry] });
  readonly isLeader = new Gauge({ name: 'herald_controller_leader', help: '1 while this replica is the leader (or leader election is off).', registers: [this.registry] });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'herald_controller_' });
  }
}
