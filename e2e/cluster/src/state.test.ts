import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterError } from './errors.js';
import { planCluster } from './plan.js';
import { initialState, parseState, readState, serializeState, STATE_FILE, StateStore } from './state.js';

const tools = { kubectl: '/x/kubectl', crictl: '/x/crictl' };

describe('state file', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('round-trips through its text form', () => {
    const s = initialState(planCluster({ nodes: 2 }), true, tools);
    expect(parseState(serializeState(s))).toEqual(s);
  });

  it('records each created thing at once, without duplicates, so a killed `up` leaves a usable state', () => {
    dir = mkdtempSync(join(tmpdir(), 'hc-state-'));
    const store = new StateStore(dir, initialState(planCluster({ dir }), false, tools));
    store.add('namespaces', 'hc-node-1', 'hc-node-2');
    store.add('namespaces', 'hc-node-2', 'hc-client');
    store.addProcess({ name: 'etcd', pid: 4242, startTime: 17, log: `${dir}/logs/etcd.log` });
    const onDisk = parseState(readFileSync(join(dir, STATE_FILE), 'utf8'));
    expect(onDisk.namespaces).toEqual(['hc-node-1', 'hc-node-2', 'hc-client']);
    expect(onDisk.processes).toEqual([{ name: 'etcd', pid: 4242, startTime: 17, log: `${dir}/logs/etcd.log` }]);
    expect(readState(dir)).toEqual(store.state);
  });

  it('reads no state from a folder without one', () => {
    dir = mkdtempSync(join(tmpdir(), 'hc-state-'));
    expect(readState(dir)).toBeUndefined();
  });

  it('refuses text that is not JSON, or not a cluster state, naming the file and the bad fields', () => {
    expect(() => parseState('{', '/d/cluster.json')).toThrow(ClusterError);
    expect(() => parseState('{', '/d/cluster.json')).toThrow(/\/d\/cluster\.json is not JSON/);
    const s = JSON.parse(serializeState(initialState(planCluster(), true, tools))) as Record<string, unknown>;
    s['processes'] = [{ name: 'etcd', pid: -1, startTime: 0, log: '' }];
    expect(() => parseState(JSON.stringify(s))).toThrow(/processes\.0\.pid/);
    expect(() => parseState(JSON.stringify({ version: 2 }))).toThrow(/not a cluster state file/);
  });
});
