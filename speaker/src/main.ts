#!/usr/bin/env node
/**
 * herald speaker: parse flags, wire dependencies, start. Exit codes: 2 bad flags, 1 fatal
 * start-up error. SIGTERM hands the IPs over before exiting (make-before-break); SIGINT too.
 */
import { FlagError, usage } from '@herald/shared/cli';
import { createLogger, systemClock } from '@herald/shared/core';
import { probe, serveHttp } from '@herald/shared/http';
import { loadKubeConfig } from '@herald/shared/kube';
import { setMinTtl, setTcpMd5, setTtl } from '@herald/native';
import { SPEAKER_FLAGS, parseSpeakerFlags, type SpeakerFlags } from './flags.js';
import { SpeakerMetrics } from './speaker/metrics.js';
import { Speaker } from './speaker/speaker.js';

async function main(): Promise<void> {
  let flags: SpeakerFlags;
  try {
    flags = parseSpeakerFlags(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`herald-speaker: ${err.message}\n${usage('herald-speaker', SPEAKER_FLAGS)}\n`);
    process.exit(2);
  }
  const log = createLogger({ level: flags.logLevel, name: 'herald-speaker' });
  const metrics = new SpeakerMetrics();
  const speaker = new Speaker({
    kc: loadKubeConfig(flags.kubeconfig),
    namespace: flags.namespace,
    node: flags.nodeName,
    bindAddr: flags.bindAddr,
    lbClass: flags.lbClass,
    memberlistPort: flags.memberlistPort,
    memberlistSecret: flags.memberlistSecret,
    log,
    clock: systemClock,
    metrics,
    // TCP MD5 (RFC 2385) and TTL security need setsockopt calls Node lacks (ADR 0004).
    socketSecurity: { setMd5: setTcpMd5, setTtl, setMinTtl },
    bgpGracefulShutdownMs: flags.bgpGracefulShutdown,
    excludedInterfacePrefixes: flags.l2ExcludedInterfacePrefixes,
  });
  const metricsEp = await serveHttp(flags.metricsAddr.host, flags.metricsAddr.port, {
    '/metrics': async () => {
      speaker.refreshMetrics();
      return { status: 200, body: await metrics.registry.metrics(), contentType: metrics.registry.contentType };
    },
  });
  const healthEp = await serveHttp(flags.healthAddr.host, flags.healthAddr.port, {
    '/healthz': () => ({ status: 200, body: 'ok\n' }),
    '/readyz': () => probe({ ready: () => speaker.ready, ipvsWithoutStrictARP: () => speaker.l2Sound }),
  });
  log.info({ event: 'starting', namespace: flags.namespace, node: flags.nodeName, metricsPort: metricsEp.port, healthPort: healthEp.port }, 'starting');

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'stopping', signal }, 'stopping');
    void speaker
      .stop({ handoff: true })
      .then(() => Promise.all([metricsEp.close(), healthEp.close()]))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await speaker.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`herald-speaker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
