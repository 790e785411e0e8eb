import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLock } from './lock.js';

describe('withLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  it('runs holders of the same lock one after the other, and returns what each returns', async () => {
    const events: string[] = [];
    const hold = (name: string) => async (): Promise<string> => {
      events.push(`${name} in`);
      await sleep(150);
      events.push(`${name} out`);
      return name;
    };
    const results = await Promise.all([withLock(join(dir, 'a.lock'), hold('first')), withLock(join(dir, 'a.lock'), hold('second'))]);
    expect(results).toEqual(['first', 'second']);
    // Whichever got the lock first, the other entered only after it left.
    expect([events[1]?.endsWith('out'), events[3]?.endsWith('out')]).toEqual([true, true]);
  });

  it('releases the lock when the holder throws', async () => {
    await expect(withLock(join(dir, 'b.lock'), () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withLock(join(dir, 'b.lock'), () => Promise.resolve('again'))).toBe('again');
  });
});
