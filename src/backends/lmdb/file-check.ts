// The database file checked against LMDB's own metadata before LMDB maps it. LMDB trusts its
// meta pages: a file shorter than the pages they say are in use is mapped anyway, and reading
// past its end kills the process with SIGBUS and no message; an empty file is taken for a new
// one and silently starts an empty database. Both are refused here, with what is wrong.
//
// The file starts with two meta pages (LMDB 0.9, data format v1, 64-bit): a 16-byte page header
// (page number, pad, flags with P_META), then the meta record. The one with the higher
// transaction id is current.
import * as fs from 'node:fs';

const PAGE_HEADER = 16;
const P_META = 0x08;
const MDB_MAGIC = 0xbeefc0de;
/** Hat 0.8's LMDB (0.9) writes and reads only this format */
const DATA_VERSION = 1;
/** offsets in a meta page: magic, version, page size (the free db's md_pad), last page, txn id */
const AT = { flags: 10, magic: PAGE_HEADER, version: PAGE_HEADER + 4, pageSize: PAGE_HEADER + 24, lastPage: PAGE_HEADER + 120, txnId: PAGE_HEADER + 128 };
const META_END = AT.txnId + 8;

export class DamagedFileError extends Error {
  constructor(file: string, problem: string) {
    super(`the database ${file} ${problem}; see "Damaged files" in the README: restore it from a backup, or ` +
      'check it with `hat-event-ts lmdb verify` and keep what is readable with `hat-event-ts lmdb copy`');
    this.name = 'DamagedFileError';
  }
}

interface Meta {
  pageSize: number;
  lastPage: number;
  txnId: number;
}

/** Throws a DamagedFileError when `file` exists but cannot be a whole LMDB file; a missing file is fine. */
export function checkLmdbFile(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) {
      throw new DamagedFileError(file, 'is empty (0 bytes): an LMDB file starts with two meta pages, so this is not one (move it away to start afresh)');
    }
    const first = readMeta(fd, 0, size, file);
    if (first.pageSize < 512 || first.pageSize > 65536 || (first.pageSize & (first.pageSize - 1)) !== 0) {
      throw new DamagedFileError(file, `has a meta page with page size ${first.pageSize}, which LMDB never writes`);
    }
    if (size < 2 * first.pageSize) {
      throw new DamagedFileError(file, `is truncated: ${size} bytes, needs at least ${2 * first.pageSize} for its two meta pages`);
    }
    const second = readMeta(fd, first.pageSize, size, file);
    const current = second.txnId > first.txnId ? second : first;
    const needed = (current.lastPage + 1) * first.pageSize;
    if (size < needed) {
      throw new DamagedFileError(file, `is truncated: ${size} bytes, needs at least ${needed} ` +
        `(its meta page, transaction ${current.txnId}, uses ${current.lastPage + 1} pages of ${first.pageSize} bytes)`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function readMeta(fd: number, offset: number, size: number, file: string): Meta {
  if (size < offset + META_END) {
    throw new DamagedFileError(file, `is truncated: ${size} bytes, too short for the meta page at byte ${offset}`);
  }
  const page = Buffer.alloc(META_END);
  fs.readSync(fd, page, 0, META_END, offset);
  const magic = page.readUInt32LE(AT.magic);
  if ((page.readUInt16LE(AT.flags) & P_META) === 0 || magic !== MDB_MAGIC) {
    throw new DamagedFileError(file, `is not an LMDB file: no meta page at byte ${offset} (magic 0x${magic.toString(16)}, LMDB writes 0x${MDB_MAGIC.toString(16)})`);
  }
  const version = page.readUInt32LE(AT.version) & 0xffff; // later formats keep flags above
  if (version !== DATA_VERSION) {
    throw new DamagedFileError(file, `is in LMDB data format ${version}; Hat 0.8's LMDB (0.9) and this server use format ${DATA_VERSION}`);
  }
  const lastPage = Number(page.readBigUInt64LE(AT.lastPage));
  return { pageSize: page.readUInt32LE(AT.pageSize), lastPage, txnId: Number(page.readBigUInt64LE(AT.txnId)) };
}
