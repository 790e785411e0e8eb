import { connect } from 'node:net';

/** Outcome of one TCP reachability probe. */
export interface TcpProbe {
  readonly reachable: boolean;
  readonly code: string;
  readonly ms: number;
}

/**
 * Tries a TCP connection. The target's kernel answering at all, with a SYN-ACK
 * (`CONNECTED`) or a RST (`ECONNREFUSED`), means it is reachable; a timeout or an
 * ICMP/neighbour failure (`EHOSTUNREACH`, `ENETUNREACH`) means it is not.
 */
export function probeTcp(ip: string, port: number, timeoutMs: number): Promise<TcpProbe> {
  const started = performance.now();
  return new Promise((resolve) => {
    const sock = connect({ host: ip, port });
    const done = (reachable: boolean, code: string): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ reachable, code, ms: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => done(false, 'TIMEOUT'), timeoutMs);
    sock.once('connect', () => done(true, 'CONNECTED'));
    sock.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED', err.code ?? 'ERROR'));
  });
}
