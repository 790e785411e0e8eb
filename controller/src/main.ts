#!/usr/bin/env node
/**
 * herald controller: parse flags, wire dependencies, start. Everything else
 * lives in importable modules. Exit codes: 2 bad flags, 1 fatal start-up error.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { FlagError, usage } from '@herald/shared/cli';
import { createLogger, systemClock } from '@herald/shared/core';
import { serveHttp, probe } from '@herald/shared/http';
import { loadKubeConfig } from '@herald/shared/kube';
import { Controller } from './controller.js';
import { CONTROLLER_FLAGS, parseControllerFlags, type ControllerFlags } from './flags.js';
import { ControllerMetrics } from './metrics.js';

async function main(): Promise<void> {
  let flags: ControllerFlags;
  try {
    flags = parseControllerFlags(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`herald-controller: ${err.message}\n${usage('herald-controller', CONTROLLER_FLAGS)}\n`);
    process.exit(2);
  }
  const log = createLogger({ level: flags.logLevel, name: 'herald-controller' });
  const metrics = new ControllerMetrics();
  const identity = `${hostname()}-${randomBytes(3).toString('hex')}`;
  const controller = new Controller({
    kc: loadKubeConfig(flags.kubeconfig),
    namespace: flags.namespace,
    lbClass: flags.lbClass,
    log,
    clock: systemClock,
    metrics,
    leaderElect: flags.leaderElect,
    identity,
  });
  const metricsEp = await serveHttp(flags.metricsAddr.host, flags.metricsAddr.port, {
    '/metrics': async () => ({ status: 200, body: await metrics.registry.metrics(), contentType: metrics.registry.contentType }),
  });
  const healthEp = await serveHttp(flags.healthAddr.host, flags.healthAddr.port, {
    '/healthz': () => ({ status: 200, body: 'ok\n' }),
    '/readyz': () => probe({ cachesSynced: () => controller.ready }),
  });
  log.info({ event: 'starting', namespace: flags.namespace, lbClass: flags.lbClass, leaderElect: flags.leaderElect, identity, metricsPort: metricsEp.port, healthPort: healthEp.port }, 'starting');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'stopping', signal }, 'stopping');
    void controller
      .stop()
      .then(() => Promise.all([metricsEp.close(), healthEp.close()]))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await controller.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`herald-controller: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
