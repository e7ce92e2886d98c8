#!/usr/bin/env python3
"""A Ferrite client in Python, from the .proto files alone (no Java).

Usage: ferrite_interop.py STUBS_DIR CLUSTER_ADDRESS TABLE

STUBS_DIR holds the modules generated from proto/src/main/proto by
`python3 -m grpc_tools.protoc --python_out=STUBS_DIR --grpc_python_out=STUBS_DIR ferrite/v1/*.proto`
(Debian: python3-grpcio, python3-grpc-tools). CLUSTER_ADDRESS is a coordinator's host:port.

Creates TABLE through CoordinatorService (retrying while the answer is RETRY), fetches its
tablet map, routes each key to the master owning its hash (xxHash64, seed 0, the same for
every client: see coordinator.proto's Tablet), then writes, reads, conditionally writes and
increments through DataService: keys py-0..py-39 with values 'python:<key>', and py-counter
incremented to 21. Prints one 'OK ...' line and exits 0, or says what went wrong and exits 1.
"""

import struct
import sys
import time

MASK = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & MASK


def _round(acc, lane):
    acc = (acc + lane * P2) & MASK
    return (_rotl(acc, 31) * P1) & MASK


def _merge(acc, v):
    acc ^= _round(0, v)
    return (acc * P1 + P4) & MASK


def xxhash64(data):
    """xxHash64 with seed 0, as an unsigned 64-bit int."""
    n, p = len(data), 0
    if n >= 32:
        v1, v2, v3, v4 = (P1 + P2) & MASK, P2, 0, (-P1) & MASK
        while p <= n - 32:
            a, b, c, d = struct.unpack_from('<4Q', data, p)
            v1, v2, v3, v4 = _round(v1, a), _round(v2, b), _round(v3, c), _round(v4, d)
            p += 32
        h = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & MASK
        for v in (v1, v2, v3, v4):
            h = _merge(h, v)
    else:
        h = P5
    h = (h + n) & MASK
    while p + 8 <= n:
        h ^= _round(0, struct.unpack_from('<Q', data, p)[0])
        h = (_rotl(h, 27) * P1 + P4) & MASK
        p += 8
    if p + 4 <= n:
        h ^= (struct.unpack_from('<I', data, p)[0] * P1) & MASK
        h = (_rotl(h, 23) * P2 + P3) & MASK
        p += 4
    while p < n:
        h ^= (data[p] * P5) & MASK
        h = (_rotl(h, 11) * P1) & MASK
        p += 1
    h ^= h >> 33
    h = (h * P2) & MASK
    h ^= h >> 29
    h = (h * P3) & MASK
    h ^= h >> 32
    return h


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    stubs, address, table = argv[1], argv[2], argv[3]
    sys.path.insert(0, stubs)
    import grpc
    from ferrite.v1 import common_pb2, coordinator_pb2, coordinator_pb2_grpc, data_pb2, data_pb2_grpc

    status_name = common_pb2.Status.Name
    timeout_s = 10
    coordinator = coordinator_pb2_grpc.CoordinatorServiceStub(grpc.insecure_channel(address))

    deadline = time.monotonic() + 30
    while True:
        created = coordinator.CreateTable(coordinator_pb2.CreateTableRequest(name=table, server_span=2),
                                          timeout=timeout_s)
        if created.status == common_pb2.OK:
            break
        if created.status != common_pb2.RETRY or time.monotonic() > deadline:
            raise SystemExit('CreateTable(%s): %s %s' % (table, status_name(created.status), created.message))
        time.sleep(0.05)

    tablet_map = coordinator.GetTabletMap(coordinator_pb2.GetTabletMapRequest(name=table), timeout=timeout_s)
    if tablet_map.status != common_pb2.OK or not tablet_map.tablets:
        raise SystemExit('GetTabletMap(%s): %s %s' % (table, status_name(tablet_map.status), tablet_map.message))
    table_id = tablet_map.table_id
    stubs_by_owner = {}

    def owner(key):
        h = xxhash64(key)
        for tablet in tablet_map.tablets:
            if tablet.start_hash <= h <= tablet.end_hash:
                address = tablet.owner_address
                if address not in stubs_by_owner:
                    stubs_by_owner[address] = data_pb2_grpc.DataServiceStub(grpc.insecure_channel(address))
                return stubs_by_owner[address]
        raise SystemExit('no tablet holds hash %d of %r' % (h, key))

    def expect(what, response, status=common_pb2.OK):
        if response.status != status:
            raise SystemExit('%s: %s (expected %s) %s' % (what, status_name(response.status), status_name(status),
                                                         response.message))
        return response

    keys = [('py-%d' % i).encode() for i in range(40)]
    for key in keys:
        written = expect('Write %r' % key, owner(key).Write(
            data_pb2.WriteRequest(table_id=table_id, key=key, value=b'python:' + key), timeout=timeout_s))
        if written.version == 0:
            raise SystemExit('Write %r: version 0' % key)
    for key in keys:
        read = expect('Read %r' % key, owner(key).Read(data_pb2.ReadRequest(table_id=table_id, key=key),
                                                      timeout=timeout_s))
        if read.value != b'python:' + key:
            raise SystemExit('Read %r: got %r' % (key, read.value))
    expect('Read missing', owner(b'missing').Read(data_pb2.ReadRequest(table_id=table_id, key=b'missing'),
                                                   timeout=timeout_s), common_pb2.OBJECT_DOESNT_EXIST)
    expect('Write if absent', owner(keys[0]).Write(data_pb2.WriteRequest(
        table_id=table_id, key=keys[0], value=b'no', reject_rules=common_pb2.RejectRules(exists=True)),
        timeout=timeout_s), common_pb2.OBJECT_EXISTS)
    counter = b'py-counter'
    for _ in range(3):
        incremented = expect('Increment', owner(counter).Increment(
            data_pb2.IncrementRequest(table_id=table_id, key=counter, int64_delta=7), timeout=timeout_s))
    if incremented.int64_value != 21:
        raise SystemExit('Increment: %d, expected 21' % incremented.int64_value)
    print('OK python wrote and read %d keys over %d masters of table %s (id %d)'
          % (len(keys), len(stubs_by_owner), table, table_id))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
