// Syncer peers from the monitor list (docs/protocol.md, "Syncer peers"), on a list recorded from Hat's event
// servers and on the cases where Hat misbehaves ([Q7], [Q8]).
import { describe, expect, it } from 'vitest';
import { componentInfoFromRecord, type ComponentInfo } from '../../src/monitor/component-info.ts';
import { findSyncerPeers } from '../../src/monitor/syncer-peers.ts';
import type { JsonValue } from '../../src/common/types.ts';
import { pythonJsonText } from '../../src/common/json-payload.ts';
import { msgServerFrom, session } from '../helpers/monitor-vectors.ts';

const member = (cid: number, data: JsonValue, group = 'event'): ComponentInfo => componentInfoFromRecord({
  cid, mid: 0, name: `m${cid}`, group, data: pythonJsonText(data), rank: 1,
  blessingReq: { token: null, timestamp: null }, blessingRes: { token: null, ready: true },
});

const server = (cid: number, serverId: number, extra: Record<string, JsonValue> = {}): ComponentInfo =>
  member(cid, { server_id: serverId, eventer_server_address: `tcp+sbs://127.0.0.1:${23012 + cid}`, syncer_server_address: `tcp+sbs://127.0.0.1:${24013 + cid}`, syncer_token: 'tok', ...extra });

describe('findSyncerPeers', () => {
  it('on the recorded list: event-2 syncs from the restarted event-1, not from itself or the application', () => {
    const frames = session('event_server_2_takes_over').frames;
    const last = msgServerFrom(frames.at(-1)!.decoded);
    const components = last.components.map(componentInfoFromRecord);
    const self = components.find((c) => c.cid === last.cid)!;
    const { peers, skipped } = findSyncerPeers(components, self, { group: 'event', serverId: 2, syncerToken: 'tok' });
    expect(peers.map((p) => [p.serverId, p.cid])).toEqual([[1, 3]]);
    expect(peers[0]!.address).toMatch(/^tcp\+sbs:\/\/127\.0\.0\.1:\d+$/);
    expect(skipped).toEqual([]);
  });

  it('skips members without usable data, with a different token, or claiming our server id; reports why', () => {
    const self = server(0, 1);
    const components = [
      self,
      server(1, 2),
      server(2, 3, { syncer_token: 'other' }),
      member(3, ['server_id', 'syncer_server_address']), // Hat crashes on this one
      member(4, { server_id: 4 }),
      server(5, 1), // [Q8] our own server id
      server(6, 7, { syncer_server_address: 'nope' }),
      server(7, 8),
      server(8, 8), // the same id again: the later one wins, as in Hat, and the earlier is reported
      member(9, { server_id: 9, syncer_server_address: 'tcp+sbs://127.0.0.1:1' }, 'other-group'),
      server(10, 10),
    ];
    const { peers, skipped } = findSyncerPeers(components, self, { group: 'event', serverId: 1, syncerToken: 'tok' });
    expect(peers.map((p) => [p.serverId, p.cid])).toEqual([[2, 1], [8, 8], [10, 10]]);
    expect(skipped.map((s) => [s.cid, s.reason])).toEqual([
      [2, 'syncer_token does not match ours'],
      [3, 'data is not an object'],
      [4, 'no syncer_server_address string'],
      [5, 'claims our own server_id 1'],
      [6, 'invalid chatter address "nope"'],
      [7, 'server_id 8 is claimed again later in the list'],
    ]);
  });

  it('without a token of our own any token is accepted (one-sided, as in Hat); [Q7] ourselves by (mid, cid)', () => {
    const self = server(0, 1);
    const twin = { ...server(0, 5), mid: 1 }; // same cid on another monitor: not us
    const { peers, skipped } = findSyncerPeers([self, twin, server(2, 3, { syncer_token: 'anything' })], self, { group: 'event', serverId: 1 });
    expect(peers.map((p) => [p.serverId, p.mid, p.cid])).toEqual([[5, 1, 0], [3, 0, 2]]);
    expect(skipped).toEqual([]); // our own entry is no candidate at all
  });
});
