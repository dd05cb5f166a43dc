// The master's blessing algorithms (docs/protocol.md, "The model"), over the global list in its order.
// BLESS_ONE picks its candidate in the documented order (rank, has a request, earlier grant, lower
// mid), not Hat's [Q5] order; with one local server every mid is 0, so the two cannot differ here.
import type { BlessingReq, ComponentInfoRecord } from '../../../src/sbs/monitor-messages.ts';

export type Algorithm = 'BLESS_ALL' | 'BLESS_ONE';

const NONE: BlessingReq = { token: null, timestamp: null };

const hasRequest = (c: ComponentInfoRecord): boolean => c.blessingReq.token !== null && c.blessingReq.timestamp !== null;

const inEffect = (c: ComponentInfoRecord): boolean => c.blessingRes.token !== null && c.blessingRes.token === c.blessingReq.token;

/** Sets every entry's blessingReq; `grant` makes a new token (and its timestamp). */
export function bless(list: ComponentInfoRecord[], algorithmOf: (group: string) => Algorithm, grant: () => BlessingReq): void {
  const groups = new Map<string, ComponentInfoRecord[]>();
  for (const c of list) {
    if (c.group === null) continue;
    const members = groups.get(c.group);
    if (members === undefined) groups.set(c.group, [c]);
    else members.push(c);
  }
  for (const [group, members] of groups) {
    if (algorithmOf(group) === 'BLESS_ALL') blessAll(members, grant);
    else blessOne(members, grant);
  }
}

function blessAll(members: ComponentInfoRecord[], grant: () => BlessingReq): void {
  for (const c of members) {
    if (!c.blessingRes.ready) c.blessingReq = NONE;
    else if (!hasRequest(c)) c.blessingReq = grant();
  }
}

function better(c: ComponentInfoRecord, best: ComponentInfoRecord): boolean {
  if (c.rank !== best.rank) return c.rank < best.rank;
  if (hasRequest(c) !== hasRequest(best)) return hasRequest(c);
  if (hasRequest(c) && c.blessingReq.timestamp !== best.blessingReq.timestamp) return c.blessingReq.timestamp! < best.blessingReq.timestamp!;
  return c.mid < best.mid;
}

function blessOne(members: ComponentInfoRecord[], grant: () => BlessingReq): void {
  let chosen: ComponentInfoRecord | null = null;
  for (const c of members) if (c.blessingRes.ready && (chosen === null || better(c, chosen))) chosen = c;
  // The next one waits until every other member has released its token.
  if (chosen !== null && !inEffect(chosen) && members.some((c) => c !== chosen && c.blessingRes.token !== null)) chosen = null;
  for (const c of members) {
    if (c !== chosen) c.blessingReq = NONE;
    else if (!hasRequest(c)) c.blessingReq = grant();
  }
}
