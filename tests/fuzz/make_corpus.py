#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

The seeds are checked in; run this again only when the storage layout (engine/src/keys.h,
engine/src/records.h), the wire API (api/proto, for fuzz_requests; encoded with protoc) or a
target's input layout changes:  python3 tests/fuzz/make_corpus.py
It mirrors the layout by hand, so the fuzz targets' ctest pass checks it: a seed of
fuzz_records that does not decode is a round-trip no-op, and GOETHE_FUZZ_VERBOSE=1 fuzz_engine_open
on corpus/fuzz_engine_open shows how far each store gets.
"""
import pathlib
import shutil
import struct
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FORMAT = b"\x01"  # records.h kFormat
NOW = 1_700_000_000_000_000_000  # fuzz_engine_open's fixed clock
SECOND = 1_000_000_000
MINUTE = 60 * SECOND


def u64(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def pack(*fields):
    return FORMAT + b"".join(u64(f) for f in fields)


# keys.h
def meta(name): return b"M" + name
def topic_key(name): return b"T" + name
def low_key(tid): return b"l" + u64(tid)
def event_key(tid, off): return b"e" + u64(tid) + u64(off)
def index_key(tid, bucket): return b"I" + u64(tid) + u64(bucket)
def cursor_key(tid, consumer): return b"p" + u64(tid) + consumer
def idem_key(tid, key): return b"k" + u64(tid) + key
def group_key(tid, name): return b"g" + u64(tid) + name
def group_event_key(tid, name, off): return b"h" + u64(tid) + bytes([len(name)]) + name + u64(off)


# records.h
def topic_rec(tid, created, age=0, nbytes=0, count=0, gran=MINUTE):
    return pack(tid, created, age, nbytes, count, gran)
def low_rec(first, deleted, last_deleted_ns): return pack(first, deleted, last_deleted_ns)
def cursor_rec(offset, updated): return pack(offset, updated)
def idem_rec(first, count, created): return pack(first, count, created)
def counter(v): return pack(v)
def group_rec(created, floor, dispatched, dead_letter_topic, ack_wait=30 * SECOND, max_deliveries=5, ordered=0,
              reset=0, max_pending=20000, redeliveries=0, dead=0, lost=0):
    return pack(created, floor, dispatched, redeliveries, dead, lost, ack_wait, max_deliveries, ordered, reset,
                max_pending) + dead_letter_topic
def group_event_rec(deliveries, acked): return pack(deliveries, acked)
def event_val(ts, appended, payload): return u64(ts) + u64(appended) + payload
def event_val_attributes(ts, appended, key, headers, payload):
    """An event with a key and headers: the running total's top bit set, then the attributes."""
    out = u64(ts) + u64(appended | 1 << 63) + bytes([len(key)]) + key + struct.pack(">H", len(headers))
    for name, value in headers:
        out += bytes([len(name)]) + name + struct.pack(">I", len(value)) + value
    return out + payload


def store(flags, records):
    """fuzz_engine_open's input: a flags byte, then (key, value) records, length-prefixed."""
    out = bytes([flags])
    for key, value in records:
        assert 1 <= len(key) <= 255 and len(value) <= 0xFFFF
        out += bytes([len(key)]) + key + struct.pack(">H", len(value)) + value
    return out


def topic(tid, name, events, first=0, gran=MINUTE, cursors=(), idem=(), **settings):
    """The records of one topic with `events` [(timestamp, payload)] from offset `first`."""
    recs = [(topic_key(name), topic_rec(tid, NOW - 3600 * SECOND, gran=gran, **settings))]
    # the events retention removed were 10 bytes each; each event carries the running total
    appended = 10 * first
    if first:
        recs.append((low_key(tid), low_rec(first, appended, events[0][0] if events else NOW)))
    last_bucket = None
    for i, (ts, payload) in enumerate(events):
        appended += len(payload)
        recs.append((event_key(tid, first + i), event_val(ts, appended, payload)))
        bucket = ts - ts % gran
        if bucket != last_bucket:
            recs.append((index_key(tid, bucket), u64(first + i)))
            last_bucket = bucket
    for consumer, offset in cursors:
        recs.append((cursor_key(tid, consumer), cursor_rec(offset, NOW - SECOND)))
    for key, off, count in idem:
        recs.append((idem_key(tid, key), idem_rec(off, count, NOW - SECOND)))
    return recs


def time_ordered(recs, events_per_segment=2):
    """The same records in format 4: each `e` key as `E` segment topic offset, with a `d` directory
    entry where a topic enters a segment (segments of `events_per_segment` of its events)."""
    out, entered = [], {}
    for key, value in recs:
        if key[:1] != b"e" or len(key) != 17:
            out.append((key, value))
            continue
        tid, off = int.from_bytes(key[1:9], "big"), int.from_bytes(key[9:], "big")
        seg = 1 + off // events_per_segment
        if entered.get(tid) != seg:
            out.append((b"d" + u64(tid) + u64(off), u64(seg)))
            entered[tid] = seg
        out.append((b"E" + u64(seg) + u64(tid) + u64(off), value))
    return out


# fuzz_requests: requests encoded by protoc from the text format, after the flags byte.
RPCS = ["Produce", "ProduceStream", "Consume", "Read", "Seek", "GetCursor", "CommitCursor", "ListCursors",
        "DeleteCursor", "CreateTopic", "DeleteTopic", "ListTopics", "DescribeTopic",
        "ProduceMulti", "Groups"]  # fuzz_requests.cc's enum Rpc
GROUP_RPCS = ["CreateGroup", "ListGroups", "DescribeGroup", "ResetGroup", "DeleteGroup"]
ACCESS_ON, NO_AUTO_CREATE = 0x10, 0x40


def request(rpc, message, text, flags=0, token=None):
    """fuzz_requests' input: flags (RPC, access), the authorization metadata if any, the message."""
    encoded = subprocess.run(
        ["protoc", "--encode=goethe.v1." + message, "-I", str(ROOT / "api" / "proto"), "goethe/v1/goethe.proto"],
        input=text.encode(), capture_output=True, check=True).stdout
    group_rpc = rpc in GROUP_RPCS
    out = bytes([RPCS.index("Groups" if group_rpc else rpc) | flags | (0x20 if token is not None else 0)])
    if token is not None:
        out += bytes([len(token)]) + token
    if group_rpc:
        out += bytes([GROUP_RPCS.index(rpc)])
    return out + encoded


def write(target, name, data):
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main():
    # fuzz_config: the shipped configs, plus every section and a few errors. every-key.yaml leaves
    # out the keys that name files (server.tls, server.auth, cluster.etcd's credentials and tls):
    # the files would not exist where the fuzzer runs, and the seed should load.
    for yaml in sorted((ROOT / "config").glob("*.yaml")):
        shutil.copy(yaml, HERE / "corpus" / "fuzz_config" / yaml.name)
    write("fuzz_config", "every-key.yaml", b"""storage:
  backend: lmdb
  path: /var/lib/goethe
  sync: false
  plugin_dir: /opt/plugins
  options: {map_size: 1GiB, no_meta_sync: true}
engine:
  max_event_bytes: 64KiB
  idempotency_window: 90s
  time_index_granularity: 1h
  retention_interval: 500ms
  max_commit_events: 1000
  max_key_bytes: 16
  max_headers: 8
server:
  listen: 0.0.0.0:6000
  log_level: debug
  auto_create_topics: false
  max_events_per_produce: 50
  max_concurrent_streams: 7
  max_consume_window: 99
cluster:
  name: prod.eu-1
  node: n1
  advertise: "[fd00::1]:6000"
  session_ttl: 5s
  etcd:
    endpoints: [127.0.0.1:2379, "etcd-2.internal:2379"]
    connect_timeout: 90s
    wait_at_start: true
replication:
  min_insync: 3
  max_lag: 500ms
  log_entries: 250000
  unclean_election: true
""")
    write("fuzz_config", "errors.yaml", b"""storage:
  backend: [leveldb]
  sync: maybe
engine:
  idempotency_window: 10x
  max_commit_events: -1
  unknown: 1
""")
    write("fuzz_config", "anchors.yaml", b"""base: &b {sync: true}
storage: *b
server: {listen: "127.0.0.1:1", log_level: "warn", max_consume_window: 18446744073709551616}
""")

    # fuzz_records: one valid encoding of each record and key.
    for name, data in {
        "topic": topic_rec(7, NOW, 3600 * SECOND, 1 << 20, 1000, MINUTE),
        "low": low_rec(10, 1000, NOW),
        "cursor": cursor_rec(41, NOW),
        "idempotency": idem_rec(40, 2, NOW),
        "counter": counter(8),
        "event-value": event_val(NOW, 4205, b"hello"),
        "event-value-attributes": event_val_attributes(NOW, 4205, b"o-1", [(b"type", b"Placed"), (b"t", b"")], b"hi"),
        "key-event": event_key(7, 42),
        "key-index": index_key(7, NOW - NOW % MINUTE),
        "key-cursor": cursor_key(7, b"billing"),
        "key-topic": topic_key(b"orders"),
        "group": group_rec(NOW, 3, 9, b"orders.workers.dead-letter", ordered=1, redeliveries=2),
        "group-event": group_event_rec(2, 0),
        "key-group": group_key(7, b"workers"),
        "key-group-event": group_event_key(7, b"workers", 5),
        "key-order": u64(7) + u64(42) + u64(7) + u64(43),
    }.items():
        write("fuzz_records", name, data)

    # fuzz_engine_open: small stores as the engine writes them.
    ts = [NOW - 120 * SECOND, NOW - 90 * SECOND, NOW - 90 * SECOND, NOW - 10 * SECOND]
    orders = topic(1, b"orders", [(t, b"event-%d" % i) for i, t in enumerate(ts)],
                   cursors=[(b"billing", 1), (b"audit", 3)], idem=[(b"k", 2, 2)])
    write("fuzz_engine_open", "one-topic", store(1, [(meta(b"next_topic_id"), counter(2))] + orders))
    trimmed = topic(2, b"metrics.cpu", [(NOW - 7200 * SECOND, b"x" * 10), (NOW - 60 * SECOND, b"y" * 10),
                                        (NOW, b"")], first=5, gran=SECOND,
                    cursors=[(b"late", 1)], age=3600 * SECOND, nbytes=15, count=2)
    write("fuzz_engine_open", "two-topics-retention",
          store(1 | 2 | 4 | 8, [(meta(b"next_topic_id"), counter(3))] + orders + trimmed))
    write("fuzz_engine_open", "empty-log-create", store(1 | 8, []))
    keyed = [(topic_key(b"keyed"), topic_rec(3, NOW - 3600 * SECOND)),
             (event_key(3, 0), event_val(NOW - SECOND, 3, b"old")),
             (event_key(3, 1), event_val_attributes(NOW, 3 + 2 + 4 + 4 + 6, b"k1", [(b"type", b"Placed")], b"new1")),
             (index_key(3, (NOW - SECOND) - (NOW - SECOND) % MINUTE), u64(0))]
    grouped = orders + [(group_key(1, b"workers"), group_rec(NOW - SECOND, 1, 4, b"orders.workers.dead-letter",
                                                                  ordered=1, redeliveries=1)),
                        (group_event_key(1, b"workers", 2), group_event_rec(2, 0)),
                        (group_event_key(1, b"workers", 3), group_event_rec(1, 1))]
    write("fuzz_engine_open", "one-topic-with-group", store(1 | 2, [(meta(b"next_topic_id"), counter(2))] + grouped))
    write("fuzz_engine_open", "format-3-keys-headers",
          store(2, [(meta(b"format"), b"goethe-log-3"), (meta(b"next_topic_id"), counter(4))] + keyed))
    write("fuzz_engine_open", "one-topic-delete", store(1 | 16, [(meta(b"next_topic_id"), counter(2))] + orders))
    write("fuzz_engine_open", "not-a-log", store(0, [(b"hello", b"world")]))
    write("fuzz_engine_open", "format-4-time-ordered",
          store(2 | 4 | 8, [(meta(b"format"), b"goethe-log-4"), (meta(b"next_topic_id"), counter(3))] +
                time_ordered(orders + trimmed)))
    write("fuzz_engine_open", "format-4-delete",
          store(16, [(meta(b"format"), b"goethe-log-4"), (meta(b"next_topic_id"), counter(2))] + time_ordered(orders)))

    # fuzz_requests: each RPC on the topics the target starts with (orders: offsets 0..19,
    # metrics.cpu: 0..4, each with a cursor of billing at 2), plus refusals and access control.
    admin, ingest, reader = b"Bearer fuzz-admin-token", b"Bearer fuzz-ingest-token", b"bearer  fuzz-reader-token"
    for name, args in {
        "produce": ("Produce", "ProduceRequest", 'topic: "orders" payloads: "a" payloads: "bb"'),
        "produce-new-topic-idempotent": ("Produce", "ProduceRequest",
                                         'topic: "fresh" payloads: "x" expected_next_offset: 0 idempotency_key: "k1"'),
        "produce-no-auto-create": ("Produce", "ProduceRequest", 'topic: "fresh" payloads: "x"', NO_AUTO_CREATE),
        "produce-empty-batch": ("Produce", "ProduceRequest", 'topic: "orders"'),
        "produce-as-ingest": ("Produce", "ProduceRequest", 'topic: "orders.eu" payloads: "e"', ACCESS_ON, ingest),
        "produce-stream-batch": ("ProduceStream", "ProduceStreamRequest",
                                 'batch_id: 7 batch { topic: "orders" payloads: "p" expected_next_offset: 20 }'),
        "produce-keys-headers": ("Produce", "ProduceRequest",
                                 'topic: "orders" events { payload: "a" key: "o-1" headers { name: "type" value: "Placed" } '
                                 'headers { name: "type" value: "\\000" } } events { payload: "" }'),
        "produce-stream-multi": ("ProduceStream", "ProduceStreamRequest",
                                 'batch_id: 8 multi { idempotency_key: "t1" topics { topic: "orders" payloads: "o" '
                                 'expected_next_offset: 20 } topics { topic: "fresh" events { payload: "f" key: "k" } } }'),
        "produce-multi": ("ProduceMulti", "ProduceMultiRequest",
                          'topics { topic: "orders" payloads: "o" } topics { topic: "metrics.cpu" '
                          'events { payload: "m" headers { name: "unit" value: "pct" } } expected_next_offset: 4 }'),
        "produce-multi-same-topic": ("ProduceMulti", "ProduceMultiRequest",
                                     'topics { topic: "orders" payloads: "a" } topics { topic: "orders" payloads: "b" }'),
        "consume-subscribe-cursor": ("Consume", "ConsumeRequest",
                                     'subscribe { topic: "orders" consumer: "billing" window: 10 max_batch_events: 5 '
                                     'start { cursor { fallback: CURSOR_FALLBACK_END reset_policy: RESET_POLICY_ERROR } } }'),
        "consume-subscribe-time": ("Consume", "ConsumeRequest",
                                   'subscribe { topic: "metrics.cpu" start { time { seconds: 1700000000 nanos: 5 } } }'),
        "consume-subscribe-as-reader": ("Consume", "ConsumeRequest", 'subscribe { topic: "metrics.cpu" read_only: true }',
                                        ACCESS_ON, reader),
        "consume-ack": ("Consume", "ConsumeRequest", "ack { offset: 3 }"),
        "read": ("Read", "ReadRequest", 'topic: "orders" from_offset: 5 max_events: 3 max_bytes: 100'),
        "consume-subscribe-group": ("Consume", "ConsumeRequest",
                                    'subscribe { topic: "orders" window: 5 start { offset: 3 } group { name: "workers" '
                                    'settings { ack_wait { seconds: 1 } max_deliveries: 2 ordered_by_key: true } } }'),
        "create-group": ("CreateGroup", "CreateGroupRequest",
                         'topic: "orders" group: "workers" start { end: true } settings { max_pending: 7 }'),
        "list-groups": ("ListGroups", "ListGroupsRequest", 'topic: "orders"'),
        "describe-group": ("DescribeGroup", "DescribeGroupRequest", 'topic: "orders" group: "workers" max_pending: 3'),
        "reset-group": ("ResetGroup", "ResetGroupRequest", 'topic: "orders" group: "workers" start { offset: 2 }'),
        "delete-group": ("DeleteGroup", "DeleteGroupRequest", 'topic: "orders" group: "workers"'),
        "read-filtered": ("Read", "ReadRequest",
                          'topic: "orders" filter { key: "o-1" headers { name: "type" value: "Placed" } }'),
        "consume-subscribe-filtered": ("Consume", "ConsumeRequest",
                                       'subscribe { topic: "orders" filter { headers { name: "type" value: "x" } } }'),
        "seek-time": ("Seek", "SeekRequest", 'topic: "orders" start { time_unix_nanos: 1700000000010000000 }'),
        "seek-cursor": ("Seek", "SeekRequest", 'topic: "orders" consumer: "billing" start { cursor {} }'),
        "seek-offset": ("Seek", "SeekRequest", 'topic: "metrics.cpu" start { offset: 7 }'),
        "get-cursor": ("GetCursor", "GetCursorRequest", 'topic: "orders" consumer: "billing"'),
        "commit-cursor": ("CommitCursor", "CommitCursorRequest", 'topic: "orders" consumer: "late" offset: 4'),
        "commit-cursor-reset": ("CommitCursor", "CommitCursorRequest",
                                'topic: "metrics.cpu" consumer: "billing" offset: 1 reset: true'),
        "list-cursors": ("ListCursors", "ListCursorsRequest", 'topic: "orders"'),
        "delete-cursor": ("DeleteCursor", "DeleteCursorRequest", 'topic: "orders" consumer: "billing"'),
        "create-topic": ("CreateTopic", "CreateTopicRequest",
                         'topic: "fresh" settings { retention_age { seconds: 1 } retention_bytes: 4 '
                         'retention_events: 2 index_granularity { nanos: 1000000 } }'),
        "create-topic-negative-age": ("CreateTopic", "CreateTopicRequest",
                                      'topic: "fresh" settings { retention_age { seconds: -1 } }'),
        "create-topic-as-admin": ("CreateTopic", "CreateTopicRequest", 'topic: "audit"', ACCESS_ON, admin),
        "delete-topic": ("DeleteTopic", "DeleteTopicRequest", 'topic: "orders"'),
        "delete-topic-as-ingest": ("DeleteTopic", "DeleteTopicRequest", 'topic: "orders"', ACCESS_ON, ingest),
        "list-topics": ("ListTopics", "ListTopicsRequest", ""),
        "list-topics-as-reader": ("ListTopics", "ListTopicsRequest", "", ACCESS_ON, reader),
        "describe-topic": ("DescribeTopic", "DescribeTopicRequest", 'topic: "metrics.cpu"'),
        "describe-topic-bad-name": ("DescribeTopic", "DescribeTopicRequest", 'topic: "no/such"'),
        "describe-topic-unknown-token": ("DescribeTopic", "DescribeTopicRequest", 'topic: "orders"', ACCESS_ON,
                                         b"Bearer guess"),
        "describe-topic-no-token": ("DescribeTopic", "DescribeTopicRequest", 'topic: "orders"', ACCESS_ON),
    }.items():
        write("fuzz_requests", name, request(*args))


if __name__ == "__main__":
    main()
