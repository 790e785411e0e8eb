import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { garbageFrames, icmpv6Checksum, ipv6Bytes, randomFrame, solicitedNode, validFrames } from './frames.js';

const A = { srcMac: '02:30:00:00:ee:01', srcIPv4: '192.0.2.250', srcIPv6: '2001:db8::250', targetIPv4: '192.0.2.100', targetIPv6: '2001:db8::100' };

/** The ICMPv6 message of an NS frame and whether its checksum verifies. */
function icmpOf(frame: Buffer): { icmp: Buffer; checksumOk: boolean } {
  const ip = frame.subarray(14);
  const icmp = ip.subarray(40, 40 + ip.readUInt16BE(4));
  const zeroed = Buffer.from(icmp);
  zeroed.writeUInt16BE(0, 2);
  return { icmp, checksumOk: icmpv6Checksum(ip.subarray(8, 24), ip.subarray(24, 40), zeroed) === icmp.readUInt16BE(2) };
}

describe('ipv6Bytes', () => {
  it.each([
    ['2001:db8::100', '20010db8000000000000000000000100'],
    ['::', '00000000000000000000000000000000'],
    ['ff02::1:ff00:100', 'ff0200000000000000000001ff000100'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
  ])('%s', (ip, hex) => {
    expect(ipv6Bytes(ip).toString('hex')).toBe(hex);
  });
});

describe('the frames', () => {
  it('start from a valid ARP request and a valid NS with a correct checksum (RFC 4443 2.3)', () => {
    const v = validFrames(A);
    expect(v.arp.length).toBe(42);
    expect(v.arp.subarray(14, 22).toString('hex')).toBe('0001080006040001');
    const { icmp, checksumOk } = icmpOf(v.ndp);
    expect(checksumOk).toBe(true);
    expect(icmp[0]).toBe(135);
    expect(v.ndp[14 + 7]).toBe(255);
    // To the target's solicited-node group and its multicast MAC.
    expect(v.ndp.subarray(14 + 24, 14 + 40).toString('hex')).toBe(solicitedNode(ipv6Bytes(A.targetIPv6)).toString('hex'));
    expect(v.ndp.subarray(0, 6).toString('hex')).toBe('3333ff000100');
  });

  it('break one thing each; every NDP frame keeps what the kernel filter needs and a valid checksum unless that is the break', () => {
    const frames = garbageFrames(A);
    expect(new Set(frames.map((f) => f.kind)).size).toBe(frames.length);
    for (const f of frames.filter((x) => x.protocol === 'ndp')) {
      // The speaker's socket filter: ip6[6] == 58 and ip6[40] == 135.
      expect([f.kind, f.frame[14 + 6], f.frame[14 + 40]]).toEqual([f.kind, 58, 135]);
      if (['badChecksum', 'icmpTooShort', 'ipv6Truncated', 'badHopLimit'].includes(f.kind)) continue;
      expect([f.kind, icmpOf(f.frame).checksumOk]).toEqual([f.kind, true]);
    }
    expect(icmpOf(frames.find((f) => f.kind === 'badChecksum')?.frame ?? Buffer.alloc(0)).checksumOk).toBe(false);
    expect(frames.find((f) => f.kind === 'arpTooShort')?.frame.length).toBe(34);
  });

  it('random frames are ARP or pass the NDP socket filter', () => {
    for (let i = 0; i < 50; i++) {
      const f = randomFrame(A, randomBytes);
      if (f.protocol === 'arp') expect(f.frame.readUInt16BE(12)).toBe(0x0806);
      else expect([f.frame.readUInt16BE(12), f.frame[20], f.frame[54]]).toEqual([0x86dd, 58, 135]);
    }
  });
});
