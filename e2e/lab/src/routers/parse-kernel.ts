/** Parser of `ip -j route show` (iproute2 6.x JSON). Pure. */
import { z } from 'zod';
import { LabError } from '../errors.js';
import { byPrefix, ip, prefix, sortAddresses } from './normalize.js';
import type { Afi, KernelRoute } from './types.js';

const hop = z.looseObject({ gateway: z.string().optional() });
const route = z.looseObject({
  dst: z.string(),
  gateway: z.string().optional(),
  protocol: z.string().optional(),
  nexthops: z.array(hop).optional(),
});

/** Kernel routes, multipath ones with every gateway; `default` becomes `0.0.0.0/0` or `::/0`. */
export function parseKernelRoutes(text: string, afi: Afi): KernelRoute[] {
  let value: unknown;
  try {
    value = text.trim() === '' ? [] : JSON.parse(text);
  } catch (err) {
    throw new LabError('BadOutput', `ip -j route: not JSON: ${JSON.stringify(text.slice(0, 200))}`, { cause: err });
  }
  const r = z.array(route).safeParse(value);
  if (!r.success) throw new LabError('BadOutput', `ip -j route: ${z.prettifyError(r.error)}`);
  return r.data
    .map((e): KernelRoute => {
      const dst = e.dst === 'default' ? (afi === 'ipv4' ? '0.0.0.0/0' : '::/0') : prefix(e.dst);
      const gws = [e.gateway, ...(e.nexthops ?? []).map((h) => h.gateway)].filter((g): g is string => g !== undefined);
      return { prefix: dst, nextHops: sortAddresses(gws.map((g) => ip(g, `gateway of ${dst}`))), ...(e.protocol === undefined ? {} : { protocol: e.protocol }) };
    })
    .sort(byPrefix);
}
