import { describe, expect, it } from '@jest/globals';
import net from 'node:net';
// Errors made by the addon come from Node's own realm, not from Jest's sandbox, so
// `toThrow(TypeError)` (instanceof) cannot match them: tests match on name and code.
import { ETHERTYPE_ARP, interfaceInfo, openPacketSocket, setMinTtl, setTcpMd5, setTtl } from './index.js';

/** Listens on `host` and hands the listening socket's fd to `use`. */
async function withListeningFd(host: string, use: (fd: number) => void): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  try {
    // net.Server has no public fd accessor; the BGP listener will create its sockets itself.
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    use(fd);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('interfaceInfo', () => {
  it('reports loopback as up, loopback, with index 1 and a zero MAC', () => {
    const lo = interfaceInfo('lo');
    expect(lo).toMatchObject({ ifindex: 1, hwtype: 772, flags: { up: true, loopback: true } });
    expect(lo.mac).toEqual(Buffer.alloc(6));
    expect(lo.mtu).toBeGreaterThan(0);
  });

  it('throws ENODEV with the interface name for a missing interface', () => {
    expect(() => interfaceInfo('hn-missing0')).toThrow(
      expect.objectContaining({ message: 'interface hn-missing0: No such device', code: 'ENODEV', syscall: 'SIOCGIFINDEX' }),
    );
  });

  it('rejects names the kernel cannot hold (IFNAMSIZ is 16 with the NUL)', () => {
    expect(() => interfaceInfo('')).toThrow(expect.objectContaining({ name: 'TypeError' }));
    expect(() => interfaceInfo('a-name-that-is-16')).toThrow(expect.objectContaining({ name: 'TypeError' }));
  });
});

describe('openPacketSocket', () => {
  it('names the interface and the errno when the interface does not exist', () => {
    expect(() => openPacketSocket({ ifname: 'eth9', ethertype: ETHERTYPE_ARP })).toThrow(
      expect.objectContaining({ message: 'open AF_PACKET on eth9: No such device', code: 'ENODEV' }),
    );
  });

  it('refuses an interface whose frames are not Ethernet', () => {
    expect(() => openPacketSocket({ ifname: 'lo', ethertype: ETHERTYPE_ARP })).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_ETHERNET' }),
    );
  });

  it('refuses an ethertype that is really an 802.3 length', () => {
    expect(() => openPacketSocket({ ifname: 'lo', ethertype: 0x0003 })).toThrow(expect.objectContaining({ name: 'RangeError' }));
    expect(() => openPacketSocket({ ifname: 'lo', ethertype: 0x10000 })).toThrow(expect.objectContaining({ name: 'RangeError' }));
  });
});

describe.each(['127.0.0.1', '::1'])('TCP options on a socket listening on %s', (host) => {
  it('sets and removes an MD5 key for a peer of either family', async () => {
    await withListeningFd(host, (fd) => {
      setTcpMd5(fd, host, 'bgp-secret');
      setTcpMd5(fd, host, null);
      // Removing a key that is not set is not an error: the desired state holds.
      setTcpMd5(fd, '192.0.2.9', null);
      if (host === '::1') setTcpMd5(fd, '192.0.2.9', 'v4-mapped-peer');
    });
  });

  it('sets GTSM (minimum TTL 255, sending TTL 255) and turns it off again', async () => {
    await withListeningFd(host, (fd) => {
      setMinTtl(fd, 255);
      setTtl(fd, 255);
      setMinTtl(fd, 0);
    });
  });
});

describe('TCP option errors', () => {
  it('refuses an IPv6 peer on an IPv4 socket, naming both', async () => {
    await withListeningFd('127.0.0.1', (fd) => {
      expect(() => setTcpMd5(fd, '2001:db8::1', 'k')).toThrow(
        expect.objectContaining({ message: `TCP_MD5SIG for 2001:db8::1 on IPv4 fd ${fd}: Address family not supported by protocol` }),
      );
    });
  });

  it('refuses a key longer than 80 bytes and a peer that is not an address', async () => {
    await withListeningFd('127.0.0.1', (fd) => {
      expect(() => setTcpMd5(fd, '127.0.0.1', 'x'.repeat(81))).toThrow(expect.objectContaining({ name: 'RangeError' }));
      expect(() => setTcpMd5(fd, 'router1', 'k')).toThrow(expect.objectContaining({ name: 'TypeError' }));
      expect(() => setTcpMd5(fd, 'fe80::1%eth0', 'k')).toThrow(expect.objectContaining({ name: 'TypeError' }));
    });
  });

  it('reports EBADF with the fd for a descriptor that is not open', () => {
    expect(() => setTtl(987_654, 1)).toThrow(expect.objectContaining({ code: 'EBADF', message: 'IP_TTL on fd 987654: Bad file descriptor' }));
  });

  it('refuses a TTL outside 1-255 and a non-integer fd', () => {
    expect(() => setTtl(0, 0)).toThrow(expect.objectContaining({ name: 'RangeError' }));
    expect(() => setMinTtl(0, 256)).toThrow(expect.objectContaining({ name: 'RangeError' }));
    expect(() => setTtl(1.5, 1)).toThrow(expect.objectContaining({ name: 'RangeError' }));
  });
});
