import { execFile } from 'node:child_process';
import { HeraldError } from '@herald/shared/core';
import type { MAC } from '../l2/index.js';

/**
 * Link-layer multicast groups an interface accepts. Neighbor Solicitations for an
 * announced IPv6 address go to its solicited-node group (RFC 4861 7.2.2), whose MAC
 * (RFC 2464 7) a NIC filters out unless the interface has joined it.
 */
export interface MulticastGroups {
  join(ifname: string, mac: MAC): Promise<void>;
  leave(ifname: string, mac: MAC): Promise<void>;
}

/**
 * Joins with `ip maddr add MAC dev IF` (SIOCADDMULTI). Chosen over the two alternatives:
 * - PACKET_ADD_MEMBERSHIP on the packet socket would be tidiest (the kernel drops it
 *   when the socket closes, even on a crash), but `@herald/native` does not expose it
 *   yet;
 * - allmulti would copy every multicast frame of the LAN (mDNS, MLD, ...) into the NIC's
 *   receive path and is one flag shared with anything else on the node.
 * SIOCADDMULTI takes a "global" reference on the address: it does not disturb the
 * kernel's own reference when a local address has the same solicited-node group, and
 * `del` drops only ours. A speaker killed with SIGKILL leaves the entry behind; that is
 * harmless (a few more frames reach the NIC) and the next join reuses it.
 */
export function ipMaddrGroups(ipCommand = 'ip'): MulticastGroups {
  const run = (op: 'add' | 'del', ifname: string, mac: MAC): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile(ipCommand, ['maddr', op, mac, 'dev', ifname], { timeout: 5_000 }, (err, _stdout, stderr) => {
        // Joining twice (a restart after a crash) or leaving what is gone is the state we want.
        const benign = op === 'add' ? /File exists/ : /No such file|not found|Cannot assign/i;
        if (err === null || benign.test(stderr)) resolve();
        else reject(new HeraldError('Internal', `ip maddr ${op} ${mac} dev ${ifname}: ${stderr.trim() || err.message}`, { cause: err }));
      });
    });
  return { join: (ifname, mac) => run('add', ifname, mac), leave: (ifname, mac) => run('del', ifname, mac) };
}
