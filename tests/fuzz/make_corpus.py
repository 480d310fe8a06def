#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/).

The seeds are checked in; run this again only when the storage layout (engine/src/keys.h,
engine/src/records.h) or a target's input layout changes:  python3 tests/fuzz/make_corpus.py
It mirrors the layout by hand, so the fuzz targets' ctest pass checks it: a seed of
fuzz_records that does not decode is a round-trip no-op, and GOETHE_FUZZ_VERBOSE=1 fuzz_engine_open
on corpus/fuzz_engine_open shows how far each store gets.
"""
import pathlib
import shutil
import struct

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
def head_key(tid): return b"H" + u64(tid)
def low_key(tid): return b"L" + u64(tid)
def event_key(tid, off): return b"E" + u64(tid) + u64(off)
def index_key(tid, bucket): return b"I" + u64(tid) + u64(bucket)
def cursor_key(tid, consumer): return b"C" + u64(tid) + consumer
def idem_key(tid, key): return b"D" + u64(tid) + key


# records.h
def topic_rec(tid, created, age=0, nbytes=0, count=0, gran=MINUTE):
    return pack(tid, created, age, nbytes, count, gran)
def head_rec(next_offset, appended, last_ns): return pack(next_offset, appended, last_ns)
def low_rec(first, deleted): return pack(first, deleted)
def cursor_rec(offset, updated): return pack(offset, updated)
def idem_rec(first, count, created): return pack(first, count, created)
def counter(v): return pack(v)
def event_val(ts, payload): return u64(ts) + payload


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
    next_offset = first + len(events)
    if events:
        # appended bytes count every event ever appended, the deleted ones (low record) included
        appended = 10 * first + sum(len(p) for _, p in events)
        recs.append((head_key(tid), head_rec(next_offset, appended, events[-1][0])))
    if first:
        recs.append((low_key(tid), low_rec(first, 10 * first)))
    last_bucket = None
    for i, (ts, payload) in enumerate(events):
        recs.append((event_key(tid, first + i), event_val(ts, payload)))
        bucket = ts - ts % gran
        if bucket != last_bucket:
            recs.append((index_key(tid, bucket), u64(first + i)))
            last_bucket = bucket
    for consumer, offset in cursors:
        recs.append((cursor_key(tid, consumer), cursor_rec(offset, NOW - SECOND)))
    for key, off, count in idem:
        recs.append((idem_key(tid, key), idem_rec(off, count, NOW - SECOND)))
    return recs


def write(target, name, data):
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main():
    # fuzz_config: the shipped configs, plus every section and a few errors.
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
server:
  listen: 0.0.0.0:6000
  log_level: debug
  auto_create_topics: false
  max_events_per_produce: 50
  max_concurrent_streams: 7
  max_consume_window: 99
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
        "head": head_rec(42, 4200, NOW),
        "low": low_rec(10, 1000),
        "cursor": cursor_rec(41, NOW),
        "idempotency": idem_rec(40, 2, NOW),
        "counter": counter(8),
        "event-value": event_val(NOW, b"hello"),
        "key-event": event_key(7, 42),
        "key-index": index_key(7, NOW - NOW % MINUTE),
        "key-cursor": cursor_key(7, b"billing"),
        "key-topic": topic_key(b"orders"),
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
    write("fuzz_engine_open", "one-topic-delete", store(1 | 16, [(meta(b"next_topic_id"), counter(2))] + orders))
    write("fuzz_engine_open", "not-a-log", store(0, [(b"hello", b"world")]))


if __name__ == "__main__":
    main()
