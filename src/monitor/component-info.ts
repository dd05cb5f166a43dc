// One entry of the monitor's global component list, as the application sees it: the wire record
// with its data text parsed (docs/protocol.md, "Messages"). Data is compared by value, never by text:
// the monitor re-encodes what a component sent.
import type { JsonValue } from '../common/types.ts';
import type { BlessingReq, BlessingRes, ComponentInfoRecord, SbsInteger } from '../sbs/monitor-messages.ts';

export interface ComponentInfo {
  /** Connection id on its local monitor server; `(mid, cid)` identifies a component system-wide. */
  readonly cid: SbsInteger;
  /** Id of its local monitor server as given by the master (0: the master itself). */
  readonly mid: SbsInteger;
  readonly name: string | null;
  readonly group: string | null;
  /** What the component published (service discovery: addresses, ids); null when nothing. */
  readonly data: JsonValue;
  /** Lower is preferred by BLESS_ONE; read-only for clients. */
  readonly rank: SbsInteger;
  readonly blessingReq: BlessingReq;
  readonly blessingRes: BlessingRes;
}

/** Parses the data text; throws a SyntaxError naming the component when it is not JSON. */
export function componentInfoFromRecord(record: ComponentInfoRecord): ComponentInfo {
  let data: JsonValue;
  try {
    data = JSON.parse(record.data) as JsonValue;
  } catch {
    throw new SyntaxError(`data of component (mid ${record.mid}, cid ${record.cid}) is not JSON text: ${JSON.stringify(record.data.slice(0, 100))}`);
  }
  return { ...record, data };
}

/** Running as seen by everybody: the master's token is present and echoed. */
export function isActive(info: ComponentInfo): boolean {
  return info.blessingReq.token !== null && info.blessingReq.token === info.blessingRes.token;
}

export function sameComponent(a: ComponentInfo, b: ComponentInfo): boolean {
  return a.mid === b.mid && a.cid === b.cid;
}
