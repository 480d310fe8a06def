"""The workloads of a backend comparison: what each one is, its unit, which way is better, and
how the raw output of the benchmark programs maps onto it (used by report.py)."""
import re

# id pattern (sync-dependent ones get "/sync:on" or "/sync:off"), group, unit, higher is better,
# description. The order is the order of the report's table.
CATALOGUE = [
    ("kv-put-b1", "in-process", "ev/s", True, "raw KV plugin: write batches of 1 event-shaped record"),
    ("kv-put-b100", "in-process", "ev/s", True, "raw KV plugin: write batches of 100 records"),
    ("kv-put-b1000", "in-process", "ev/s", True, "raw KV plugin: write batches of 1000 records"),
    ("kv-get", "in-process", "ops/s", True, "raw KV plugin: point get of a random existing key"),
    ("kv-scan", "in-process", "ev/s", True, "raw KV plugin: forward scan of every record"),
    ("engine-append-b1", "in-process", "ev/s", True, "EventLog::Append, 1 event per call, one caller"),
    ("engine-append-b100", "in-process", "ev/s", True, "EventLog::Append, 100 events per call"),
    ("engine-append-b1000", "in-process", "ev/s", True, "EventLog::Append, 1000 events per call"),
    ("engine-read", "in-process", "ev/s", True, "EventLog::Read, pages of 1000 events"),
    ("seek-by-time-10k", "in-process", "seeks/s", True, "resolve a point in time on a topic of 10^4 events"),
    ("seek-by-time-1M", "in-process", "seeks/s", True, "resolve a point in time on a topic of 10^6 events"),
    ("sync-appenders-1", "in-process", "ev/s", True, "1 thread appending 1 event at a time, sync on"),
    ("sync-appenders-8", "in-process", "ev/s", True, "8 threads appending, sync on (group commit)"),
    ("sync-appenders-64", "in-process", "ev/s", True, "64 threads appending, sync on (group commit)"),
    ("async-appenders-1", "in-process", "ev/s", True, "1 append in flight via AppendAsync, sync on"),
    ("async-appenders-8", "in-process", "ev/s", True, "8 appends in flight via AppendAsync, sync on"),
    ("async-appenders-64", "in-process", "ev/s", True, "64 appends in flight via AppendAsync, sync on"),
    ("produce-stream", "server", "ev/s", True, "ProduceStream, batches of 100, 40 in flight"),
    ("produce-stream-t10k", "server", "ev/s", True, "ProduceStream as above, a batch to each of 10,000 topics in turn"),
    ("produce-unary-c1", "server", "ev/s", True, "unary Produce of 1 event, 1 call in flight"),
    ("produce-unary-c8", "server", "ev/s", True, "unary Produce of 1 event, 8 calls in flight"),
    ("produce-unary-c64", "server", "ev/s", True, "unary Produce of 1 event, 64 calls in flight"),
    ("round-trip-c1", "server", "calls/s", True,
     "unary DescribeTopic, 1 call in flight: gRPC's round trip without storage work, the floor under produce-unary-c1"),
    ("consume-catch-up", "server", "ev/s", True, "Consume from the start of what produce-stream wrote, acking"),
    ("group-ack-m1", "server", "ev/s", True, "a consumer group of 1 member catches up what produce-stream wrote, acking each event"),
    ("group-ack-m4", "server", "ev/s", True, "the same with 4 members, each on its own connection"),
    ("group-ack-m16", "server", "ev/s", True, "the same with 16 members"),
    ("group-nack-redelivery", "server", "us", False, "a consumer group: from a nack to the event's redelivery, median"),
    ("group-live-m4-p50", "server", "us", False, "a group of 4 members tailing a topic written at a fixed rate: produce to delivery, median"),
    ("group-live-m4-p99", "server", "us", False, "the same, 99th percentile"),
    ("e2e-p50", "server", "us", False, "live tail at a fixed rate: produce (one open stream, each event acked) to delivery, median"),
    ("e2e-p90", "server", "us", False, "live tail at a fixed rate: 90th percentile"),
    ("e2e-p99", "server", "us", False, "live tail at a fixed rate: 99th percentile"),
    ("e2e-p99.9", "server", "us", False, "live tail at a fixed rate: 99.9th percentile"),
    ("tail-fanout-c100-p50", "server", "us", False, "100 read-only streams tail one topic written at 100 events/s: produce to delivery, median over all"),
    ("tail-fanout-c100-p99", "server", "us", False, "the same, 99th percentile"),
    ("space-after-append", "space", "B/event", False, "bytes on disk per event after N appends and a flush"),
    ("space-after-retention", "space", "B/event", False, "bytes per retained event right after retention removed half"),
    ("space-after-retention-reopen", "space", "B/event", False, "the same after closing and reopening the store"),
    ("reopen", "recovery", "s", False, "open the store and the event log of N events"),
]
BY_NAME = {entry[0]: entry for entry in CATALOGUE}

# Workloads whose figures depend on --sync: their ids carry "/sync:on" or "/sync:off".
SYNC_DEPENDENT = {"kv-put-b1", "kv-put-b100", "kv-put-b1000", "engine-append-b1", "engine-append-b100",
                  "engine-append-b1000", "produce-stream", "produce-stream-t10k", "produce-unary-c1", "produce-unary-c8",
                  "produce-unary-c64", "consume-catch-up", "group-ack-m1", "group-ack-m4", "group-ack-m16",
                  "group-nack-redelivery", "group-live-m4-p50", "group-live-m4-p99", "e2e-p50", "e2e-p90", "e2e-p99", "e2e-p99.9",
                  "tail-fanout-c100-p50", "tail-fanout-c100-p99"}
# The durability the others run with: "on", "off", or "-" (reads: no writes measured).
FIXED_SYNC = {"round-trip-c1": "-", "kv-get": "-", "kv-scan": "-", "engine-read": "-", "seek-by-time-10k": "-", "seek-by-time-1M": "-",
              "sync-appenders-1": "on", "sync-appenders-8": "on", "sync-appenders-64": "on",
              "async-appenders-1": "on", "async-appenders-8": "on", "async-appenders-64": "on",
              "space-after-append": "off", "space-after-retention": "off",
              "space-after-retention-reopen": "off", "reopen": "off"}


def workload_id(name, sync):
    return f"{name}/sync:{sync}" if name in SYNC_DEPENDENT else name


def base_name(workload):
    return workload.split("/sync:")[0]


def sync_of(workload):
    return workload.split("/sync:")[1] if "/sync:" in workload else FIXED_SYNC.get(workload, "-")


def engine_run(run_name):
    """(name, sync) for a goethe-engine-bench run name, or None for runs the comparison ignores."""
    m = re.match(r"^(raw_put|engine_append)/[^/]+/batch:(\d+)/sync:(on|off)(/|$)", run_name)
    if m:
        return ("kv-put-b" if m[1] == "raw_put" else "engine-append-b") + m[2], m[3]
    m = re.match(r"^(raw_get|raw_scan|engine_read)/", run_name)
    if m:
        return {"raw_get": "kv-get", "raw_scan": "kv-scan", "engine_read": "engine-read"}[m[1]], "-"
    m = re.match(r"^seek_by_time/[^/]+/events:(\d+)", run_name)
    if m:
        events = int(m[1])
        return "seek-by-time-" + ("1M" if events == 1_000_000 else "10k" if events == 10_000 else str(events)), "-"
    m = re.match(r"^concurrent_sync_appenders/.*/threads:(\d+)", run_name)
    if m:
        return f"sync-appenders-{m[1]}", "on"
    m = re.match(r"^concurrent_sync_async_appenders/[^/]+/appenders:(\d+)", run_name)
    if m:
        return f"async-appenders-{m[1]}", "on"
    return None


def result_values(fields):
    """[(name, value)] for one RESULT line of goethe-bench or goethe-storage-bench."""
    test = fields.get("test", "")
    if test == "produce-stream" and fields.get("topics", "1") != "1":
        topics = int(fields["topics"])
        return [(f"produce-stream-t{topics // 1000}k" if topics % 1000 == 0 else f"produce-stream-t{topics}", float(fields["rate"]))]
    if test == "tail-fanout":
        consumers = fields["consumers"]
        return [(f"tail-fanout-c{consumers}-p50", float(fields["p50_us"])), (f"tail-fanout-c{consumers}-p99", float(fields["p99_us"]))]
    if test in ("produce-stream", "consume-catch-up") or test.startswith(("produce-unary-c", "round-trip-c", "group-ack-m")):
        return [(test, float(fields["rate"]))]
    if test == "group-nack-redelivery":
        return [(test, float(fields["p50_us"]))]
    if test == "group-live-m4":
        return [("group-live-m4-p50", float(fields["p50_us"])), ("group-live-m4-p99", float(fields["p99_us"]))]
    if test == "e2e":
        return [("e2e-p50", float(fields["p50_us"])), ("e2e-p90", float(fields["p90_us"])),
                ("e2e-p99", float(fields["p99_us"])), ("e2e-p99.9", float(fields["p999_us"]))]
    if test.startswith("space-after-"):
        return [(test, float(fields["bytes_per_event"]))]
    if test == "reopen":
        return [("reopen", float(fields["secs"]))]
    return []
