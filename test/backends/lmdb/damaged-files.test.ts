// Damaged database files: refused before LMDB maps them when they disagree with LMDB's own meta
// pages (truncated, empty, not LMDB, another format), and checked for our own consistency at
// open (refused when the server would write wrong data, a warning when answers may be
// incomplete, the type index rebuilt). test/cli/damaged-file.test.ts runs the server on them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLmdbBackend } from '../../../src/backends/lmdb/backend.ts';
import type { LmdbBackendConf } from '../../../src/backends/lmdb/conf.ts';
import { checkLmdbFile } from '../../../src/backends/lmdb/file-check.ts';
import { systemValue, u64Bytes } from '../../../src/backends/lmdb/keys.ts';
import { captureLogger } from '../../helpers/logger.ts';
import { c0, E, ids, openBackend, tempDbPath } from './helpers.ts';

const EVENTS = 300;
let original: LmdbBackendConf;

// Made once, in a folder of its own (the helpers' folders go after each test).
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'hat-lmdb-damaged-'));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

beforeAll(async () => {
  original = c0({ db_path: path.join(folder, 'events.db') });
  const backend = await openLmdbBackend(original, { cleanup: false });
  for (let i = 0; i < EVENTS; i += 10) {
    await backend.register(Array.from({ length: 10 }, (_, j) => E(['t', String((i + j) % 7)], { session: 1 + i / 10, instance: 1 + i + j })));
    await backend.flush();
  }
  await backend.close();
});

/** A copy of the original file, changed by `damage`, under a new path. */
function damagedCopy(damage: (file: string) => void): LmdbBackendConf {
  const conf = { ...original, db_path: tempDbPath() };
  fs.copyFileSync(original.db_path, conf.db_path);
  damage(conf.db_path);
  return conf;
}

/** Changes rows of a copy with lmdb-js directly, as damage or another writer would. */
async function editedCopy(edit: (db: (name: string) => ReturnType<typeof rawDb>) => void): Promise<LmdbBackendConf> {
  const conf = damagedCopy(() => undefined);
  const root = open({ path: conf.db_path, noSubdir: true, maxDbs: 8 });
  await root.batch(() => edit((name) => rawDb(root, name)));
  await root.close();
  return conf;
}

const rawDb = (root: ReturnType<typeof open>, name: string) => root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary' });

const size = (file: string): number => fs.statSync(file).size;

describe('a damaged file is refused before LMDB maps it', () => {
  it('truncated to half, or by 8 KiB: says how long it is and how long it must be', async () => {
    for (const cut of [(n: number) => Math.floor(n / 2), (n: number) => n - 8192]) {
      const conf = damagedCopy((file) => fs.truncateSync(file, cut(size(file))));
      const expected = new RegExp(`is truncated: ${size(conf.db_path)} bytes, needs at least ${size(original.db_path)} `);
      await expect(openBackend(conf)).rejects.toThrow(expected);
    }
  });

  it('empty (0 bytes): refused instead of starting an empty database', async () => {
    const conf = damagedCopy((file) => fs.truncateSync(file, 0));
    await expect(openBackend(conf)).rejects.toThrow(/is empty \(0 bytes\)/);
    expect(size(conf.db_path)).toBe(0); // untouched
  });

  it('not LMDB: zeroed meta pages, a text file, too short for a meta page', async () => {
    const zeroed = damagedCopy((file) => {
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(8192), 0, 8192, 0);
      fs.closeSync(fd);
    });
    await expect(openBackend(zeroed)).rejects.toThrow(/is not an LMDB file: no meta page at byte 0/);
    const text = damagedCopy((file) => fs.writeFileSync(file, 'backend:\n  module: lmdb\n'.repeat(500)));
    await expect(openBackend(text)).rejects.toThrow(/is not an LMDB file/);
    const short = damagedCopy((file) => fs.writeFileSync(file, 'x'));
    await expect(openBackend(short)).rejects.toThrow(/is truncated: 1 bytes, too short for the meta page/);
  });

  it('another LMDB data format: named', () => {
    const conf = damagedCopy((file) => {
      const fd = fs.openSync(file, 'r+');
      const two = Buffer.alloc(4);
      two.writeUInt32LE(2);
      fs.writeSync(fd, two, 0, 4, 20); // both meta pages' version field
      fs.writeSync(fd, two, 0, 4, 4096 + 20);
      fs.closeSync(fd);
    });
    expect(() => checkLmdbFile(conf.db_path)).toThrow(/is in LMDB data format 2; Hat 0.8's LMDB \(0.9\) and this server use format 1/);
  });

  it('a whole file, also with room past its last page, and a missing one, pass', async () => {
    expect(() => checkLmdbFile(original.db_path)).not.toThrow();
    const longer = damagedCopy((file) => fs.truncateSync(file, size(file) + 65536));
    const backend = await openBackend(longer);
    expect(await backend.query({ maxResults: 1000 })).toHaveLength(EVENTS);
    expect(() => checkLmdbFile(`${original.db_path}.missing`)).not.toThrow();
  });
});

describe('consistency checks at open', () => {
  it('a partition count that disagrees with the rows: a warning naming both', async () => {
    const conf = await editedCopy((db) => void db('ORDERED_COUNT').put(u64Bytes(1), u64Bytes(EVENTS + 5)));
    const log = captureLogger();
    const backend = await openBackend(conf, { cleanup: false, logger: log });
    expect(log.lines.find((l) => l.level === 'warning')?.fields['problem']).toBe(`ORDERED_COUNT adds up to ${EVENTS + 5} entries, ORDERED_DATA holds ${EVENTS}`);
    expect(await backend.query({ maxResults: 1000 })).toHaveLength(EVENTS);
  });

  it("a partition's newest entry that cannot be read, or is not the event its key names: refused", async () => {
    const newestKey = async (conf: LmdbBackendConf): Promise<Buffer> => {
      const root = open({ path: conf.db_path, noSubdir: true, maxDbs: 8, readOnly: true });
      const key = [...rawDb(root, 'ORDERED_DATA').getKeys({ reverse: true, limit: 1 })][0]!;
      await root.close();
      return Buffer.from(key);
    };
    const key = await newestKey(original);
    const garbage = await editedCopy((db) => void db('ORDERED_DATA').put(key, Buffer.from([0xff, 0x01, 0x02])));
    await expect(openBackend(garbage)).rejects.toThrow(/is inconsistent: partition 1's newest entry cannot be read/);
    const otherEvent = await editedCopy((db) => {
      const first = [...db('ORDERED_DATA').getRange({ limit: 1 })][0]!;
      void db('ORDERED_DATA').put(key, Buffer.from(first.value));
    });
    await expect(openBackend(otherEvent)).rejects.toThrow(/partition 1's newest entry holds event 1\/1\/1 under the key of event 1\/30\/300/);
  });

  it('SYSTEM behind the stored ids: refused, as new ids would repeat stored ones', async () => {
    const conf = await editedCopy((db) => void db('SYSTEM').put(u64Bytes(1), systemValue({ server: 1, session: 2, instance: 20 }, { s: 0, us: 0 })));
    await expect(openBackend(conf)).rejects.toThrow(/SYSTEM's last id of server 1 is 1\/2\/20: ids would be given twice/);
  });

  it('a type index that disagrees with its meta rows is rebuilt, with a warning, and answers stay right', async () => {
    const conf = await editedCopy((db) => {
      const index = db('HAT_EVENT_TS_TYPE_INDEX');
      const keys = [...index.getKeys()].filter((k) => k.length > 8).slice(0, 25);
      for (const k of keys) void index.remove(Buffer.from(k));
    });
    const log = captureLogger();
    const backend = await openBackend(conf, { cleanup: false, logger: log });
    expect(log.lines.map((l) => `${l.message}: ${String(l.fields['problem'])}`)).toEqual([
      `type index inconsistent: rebuilding it: it holds ${EVENTS + 1 - 25} rows, its meta rows account for ${EVENTS + 1}`,
    ]);
    const reference = await openBackend({ ...original, db_path: damagedCopy(() => undefined).db_path });
    for (let t = 0; t < 7; t++) {
      expect(ids(await backend.query({ types: [['t', String(t)]] }))).toEqual(ids(await reference.query({ types: [['t', String(t)]] })));
    }
    await backend.close();
    const quiet = captureLogger();
    await openBackend(conf, { cleanup: false, logger: quiet });
    expect(quiet.lines).toEqual([]);
  });
});
