"""Reads and writes Hat 0.8 LMDB backend files with py-lmdb, the library Hat itself uses.

Run by file-compat-python.test.ts. One JSON request on stdin, one JSON answer on stdout:

  {"command": "write", "path": ..., "map_size": N, "partitions": [{"id", "order", "subscriptions"}],
   "events": [{"id": [server, session, instance], "type": [...], "timestamp": [s, us],
               "source_timestamp": [s, us] | null, "value": hex, "latest": bool,
               "partitions": [partition id, ...]}]}
    Writes the events as Hat's backend does in one flush: SYSTEM rows, LATEST_TYPE refs
    numbered from 1 in first-seen order, the final event of each latest type in LATEST_DATA,
    every partition entry in ORDERED_DATA keyed by (partition, key time, event id), the
    ORDERED_COUNT rows and the REF sets. Event values (SBS HatEventer.Event) come from the caller.

  {"command": "read", "path": ...}
    Opens the file as Hat opens it, checks the layout invariants and answers every row (hex),
    plus what Hat's query_flushed walk over REF would load (the first ref of each event).

  hat_lmdb_file.py hold PATH (no request on stdin)
    Holds a write transaction open on the file until stdin ends (see hold()).
"""

import json
import struct
import sys

import lmdb

DB_NAMES = ['SYSTEM', 'LATEST_DATA', 'LATEST_TYPE', 'ORDERED_DATA',
            'ORDERED_PARTITION', 'ORDERED_COUNT', 'REF']
LATEST_TAG = 1
ORDERED_TAG = 3


def u64(value):
    return struct.pack('>Q', value)


def ts_bytes(t):
    return struct.pack('>QI', t[0] + (1 << 63), t[1])


def eid_bytes(eid):
    return struct.pack('>QQQ', *eid)


def open_env(path, map_size=None):
    # Hat 0.8: lmdb.Environment(path, map_size=..., subdir=False, max_dbs=len(DbType))
    kwargs = {'subdir': False, 'max_dbs': len(DB_NAMES)}
    if map_size is not None:
        kwargs['map_size'] = map_size
    env = lmdb.Environment(path, **kwargs)
    dbs = {name: env.open_db(name.encode('utf-8')) for name in DB_NAMES}
    return env, dbs


def write(request):
    env, dbs = open_env(request['path'], request['map_size'])
    system = {}
    type_refs = {}
    latest = {}
    refs = {}
    counts = {p['id']: 0 for p in request['partitions']}
    ordered = []
    for event in request['events']:
        eid = tuple(event['id'])
        system[eid[0]] = eid_bytes(eid) + ts_bytes(event['timestamp'])
        value = bytes.fromhex(event['value'])
        if event['latest']:
            type_key = tuple(event['type'])
            if type_key not in type_refs:
                type_refs[type_key] = len(type_refs) + 1
            latest[type_refs[type_key]] = (eid, value)
        for pid in event['partitions']:
            order = next(p['order'] for p in request['partitions'] if p['id'] == pid)
            key_time = event['timestamp'] if order == 1 else event['source_timestamp']
            key = u64(pid) + ts_bytes(key_time) + eid_bytes(eid)
            ordered.append((key, value))
            counts[pid] += 1
            refs.setdefault(eid, []).append(bytes([ORDERED_TAG]) + key)
    for type_ref, (eid, _) in latest.items():
        refs.setdefault(eid, []).insert(0, bytes([LATEST_TAG]) + u64(type_ref))
    with env.begin(write=True) as txn:
        for server, row in system.items():
            txn.put(u64(server), row, db=dbs['SYSTEM'])
        for type_key, type_ref in type_refs.items():
            txn.put(u64(type_ref), json.dumps(list(type_key)).encode('utf-8'), db=dbs['LATEST_TYPE'])
        for type_ref, (_, value) in latest.items():
            txn.put(u64(type_ref), value, db=dbs['LATEST_DATA'])
        for p in request['partitions']:
            identity = {'order': p['order'], 'subscriptions': p['subscriptions']}
            txn.put(u64(p['id']), json.dumps(identity).encode('utf-8'), db=dbs['ORDERED_PARTITION'])
            txn.put(u64(p['id']), u64(counts[p['id']]), db=dbs['ORDERED_COUNT'])
        for key, value in ordered:
            txn.put(key, value, db=dbs['ORDERED_DATA'])
        for eid, ref_list in refs.items():
            txn.put(eid_bytes(eid), b''.join(ref_list), db=dbs['REF'])
    env.close()
    return {'ok': True}


def split_refs(value):
    refs = []
    offset = 0
    while offset < len(value):
        tag = value[offset]
        size = 8 if tag == LATEST_TAG else 44 if tag == ORDERED_TAG else None
        check(size is not None and offset + 1 + size <= len(value), 'bad REF value %s' % value.hex())
        refs.append((tag, value[offset + 1:offset + 1 + size]))
        offset += 1 + size
    return refs


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def read(request):
    env, dbs = open_env(request['path'])
    rows = {}
    with env.begin() as txn:
        for name in DB_NAMES:
            rows[name] = [(bytes(k), bytes(v)) for k, v in txn.cursor(db=dbs[name])]
        flushed = []
        for key, value in rows['REF']:
            tag, ref_key = split_refs(value)[0]
            db = dbs['LATEST_DATA'] if tag == LATEST_TAG else dbs['ORDERED_DATA']
            data = txn.get(ref_key, db=db)
            check(data is not None, 'REF %s points nowhere' % key.hex())
            flushed.append([key.hex(), bytes(data).hex()])
    env.close()

    for key, value in rows['SYSTEM']:
        check(len(key) == 8 and len(value) == 36, 'SYSTEM row sizes')
        check(struct.unpack('>Q', value[:8])[0] == struct.unpack('>Q', key)[0], 'SYSTEM server id')
    type_refs = set()
    for key, value in rows['LATEST_TYPE']:
        segments = json.loads(value.decode('utf-8'))
        check(isinstance(segments, list) and all(isinstance(s, str) for s in segments), 'LATEST_TYPE value')
        check(value.decode('utf-8') == json.dumps(segments), 'LATEST_TYPE is not json.dumps text')
        type_refs.add(key)
    check(all(key in type_refs for key, _ in rows['LATEST_DATA']), 'LATEST_DATA row without a type')
    partitions = {}
    for key, value in rows['ORDERED_PARTITION']:
        identity = json.loads(value.decode('utf-8'))
        check(identity['order'] in (1, 2) and isinstance(identity['subscriptions'], list), 'partition row')
        check(value.decode('utf-8') == json.dumps(identity), 'ORDERED_PARTITION is not json.dumps text')
        partitions[key] = identity
    actual_counts = {}
    for key, _ in rows['ORDERED_DATA']:
        check(len(key) == 44 and key[:8] in partitions, 'ORDERED_DATA key %s' % key.hex())
        actual_counts[key[:8]] = actual_counts.get(key[:8], 0) + 1
    for key, value in rows['ORDERED_COUNT']:
        check(struct.unpack('>Q', value)[0] == actual_counts.get(key, 0), 'ORDERED_COUNT of %s' % key.hex())
    latest_keys = {k for k, _ in rows['LATEST_DATA']}
    ordered_keys = {k for k, _ in rows['ORDERED_DATA']}
    referenced = set()
    for key, value in rows['REF']:
        check(len(key) == 24, 'REF key size')
        for tag, ref_key in split_refs(value):
            if tag == LATEST_TAG:
                check(ref_key in latest_keys, 'Latest ref to a missing row')
            else:
                check(ref_key in ordered_keys and ref_key[20:] == key, 'Ordered ref to a missing row')
            referenced.add((tag, ref_key))
    check(all((ORDERED_TAG, k) in referenced for k in ordered_keys), 'ORDERED_DATA row without a ref')
    check(all((LATEST_TAG, k) in referenced for k in latest_keys), 'LATEST_DATA row without a ref')
    return {
        'rows': {name: [[k.hex(), v.hex()] for k, v in rows[name]] for name in DB_NAMES},
        'partitions': {str(struct.unpack('>Q', k)[0]): v for k, v in partitions.items()},
        'flushed': flushed,
        'lmdb_version': list(lmdb.version()),
    }


def hold(path):
    """A writer in the middle of a transaction, as a running Hat server is: puts a SYSTEM row for
    server 99, says so, and commits only when stdin ends; then answers the SYSTEM keys."""
    env, dbs = open_env(path)
    txn = env.begin(write=True)
    txn.put(u64(99), eid_bytes((99, 1, 1)) + ts_bytes((0, 0)), db=dbs['SYSTEM'])
    print(json.dumps({'holding': True}), flush=True)
    sys.stdin.read()
    txn.commit()
    with env.begin() as txn:
        servers = [struct.unpack('>Q', bytes(k))[0] for k, _ in txn.cursor(db=dbs['SYSTEM'])]
    env.close()
    print(json.dumps({'committed': True, 'servers': servers}), flush=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'hold':
        hold(sys.argv[2])
        return
    request = json.load(sys.stdin)
    handler = {'write': write, 'read': read}[request['command']]
    json.dump(handler(request), sys.stdout)


if __name__ == '__main__':
    main()
