#!/usr/bin/env python3
"""Turns one comparison run's raw output into its report (standard library only).

usage: report.py RUN_DIR
Reads RUN_DIR/raw/{meta.txt, results.txt, engine-*.json}; writes RUN_DIR/results.json,
results.csv and report.txt (also printed), then the charts (charts.py: throughput.png,
latency.png). docs/benchmarks.md describes every field.
"""
import csv
import glob
import json
import os
import re
import statistics
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backend_options  # noqa: E402
import charts  # noqa: E402
import workloads as wl  # noqa: E402

CSV_COLUMNS = ["backend", "workload", "group", "sync", "unit", "higher_is_better", "median", "min", "max",
               "repetitions", "payload_bytes", "payloads", "events", "build_type", "filesystem", "nproc", "memory_gib",
               "kernel", "backend_options"]


def read_meta(raw):
    meta = {}
    with open(os.path.join(raw, "meta.txt")) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            if key:
                meta[key] = value
    return meta


def parse_fields(line):
    return dict(token.split("=", 1) for token in line.split()[1:] if "=" in token)


def collect(raw):
    """samples[backend][workload id] = [values]; disk[(test, start|end)] = [values]; load = [records]."""
    samples, disk, load = {}, {}, []
    results = os.path.join(raw, "results.txt")
    lines = open(results).read().splitlines() if os.path.exists(results) else []
    for line in lines:
        if line.startswith("LOAD "):
            load.append(parse_fields(line))
            continue
        if not line.startswith("RESULT "):
            continue
        fields = parse_fields(line)
        if fields.get("peer") == "disk":
            when = fields.get("when", "start")
            if fields["test"] == "4k-write-dsync":
                disk.setdefault(("write_4k_dsync", when), []).append(float(fields["per_op_us"]))
            else:
                disk.setdefault(("seq_write_fdatasync", when), []).append(float(fields["MBps"]))
            continue
        backend = fields.get("backend")
        for name, value in wl.result_values(fields):
            workload = wl.workload_id(name, fields.get("sync", "-"))
            samples.setdefault(backend, {}).setdefault(workload, []).append(value)
    for path in sorted(glob.glob(os.path.join(raw, "engine-*.json"))):
        backend = re.match(r"engine-(.+?)(-r\d+)?\.json$", os.path.basename(path))[1]  # engine-BACKEND-rREP.json
        try:
            runs = json.load(open(path)).get("benchmarks", [])
        except ValueError:
            continue  # a run that died before finishing its JSON: its log says why
        for run in runs:
            if run.get("run_type", "iteration") != "iteration" or run.get("error_occurred"):
                continue
            mapped = wl.engine_run(run.get("run_name", run["name"]))
            if mapped and "items_per_second" in run:
                name, sync = mapped
                samples.setdefault(backend, {}).setdefault(wl.workload_id(name, sync), []).append(
                    float(run["items_per_second"]))
    return samples, disk, load


def summary(values, unit):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "unit": unit,
            "n": len(values), "samples": values}


def ordered_workloads(samples, sync_modes):
    present = {w for per_backend in samples.values() for w in per_backend}
    ordered = []
    for name, *_ in wl.CATALOGUE:
        ids = [wl.workload_id(name, s) for s in sync_modes] if name in wl.SYNC_DEPENDENT else [name]
        ordered += [w for w in ids if w in present]
    return ordered


def number(value):
    """Three significant digits with k/M suffixes: 412k, 1.23M, 87.5, 0.0123."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def cell(result):
    if result is None:
        return "-"
    if result["n"] == 1:
        return number(result["median"])
    return f"{number(result['median'])} [{number(result['min'])}..{number(result['max'])}]"


def winner_line(workload, results, backends):
    """"produce-stream/sync:on: lmdb fastest, 1.8x leveldb, 2.3x rocksdb"."""
    name = wl.base_name(workload)
    _, group, unit, higher, _ = wl.BY_NAME[name]
    have = [(b, results[b][workload]) for b in backends if workload in results.get(b, {})]
    if len(have) < 2:
        return None
    have.sort(key=lambda item: item[1]["median"], reverse=higher)
    best_backend, best = have[0]
    word = "fastest" if higher else {"us": "lowest", "B/event": "smallest", "s": "quickest"}.get(unit, "best")
    parts = []
    for backend, other in have[1:]:
        a, b = best["median"], other["median"]
        ratio = (a / b if b else float("inf")) if higher else (b / a if a else float("inf"))
        overlap = best["n"] > 1 and other["n"] > 1 and (
            best["min"] <= other["max"] if higher else best["max"] >= other["min"])
        parts.append(f"{ratio:.2f}x {backend}" + (" (within noise)" if overlap else ""))
    return {"workload": workload, "winner": best_backend,
            "line": f"{workload}: {best_backend} {word}, " + ", ".join(parts)}


def machine_lines(meta, load):
    mem_gib = int(meta.get("memory_kib", "0") or 0) / 1048576
    busiest = max((float(r.get("load1", 0)) for r in load), default=0.0)
    io = max((float(r["io_pressure60"]) for r in load if r.get("io_pressure60", "?") != "?"), default=0.0)
    names = {entry.split(":")[0] for r in load for entry in r.get("busy", "none").split(",") if entry and entry != "none"}
    others = ", ".join(sorted(names - {"goethe-server", "goethe-bench", "goethe-engine-b", "goethe-storage-",
                                        "python3", "top", "dd"}))
    return [
        f"machine: {meta.get('nproc')} cores ({meta.get('cpu')}), {mem_gib:.1f} GiB, {meta.get('kernel')}, "
        f"{meta.get('os')}",
        f"data dir: {meta.get('data_dir')} on {meta.get('filesystem')} ({meta.get('device')}; statfs: "
        f"{meta.get('statfs_type')}); every backend's stores in it",
        f"build: {meta.get('build_type')}, {meta.get('compiler')}, commit {meta.get('commit')}",
        f"settings: payload {meta.get('payload_bytes')} B ({meta.get('payloads')}), {meta.get('events')} events, "
        f"{meta.get('repetitions')} repetition(s), sync {meta.get('sync')}"
        + (", QUICK mode (small counts, short runs: not for conclusions)" if meta.get("quick") == "1" else ""),
        f"load average (1/5/15 min): {meta.get('loadavg_start')} at start, {meta.get('loadavg_end')} at end; "
        f"highest 1-min figure seen between phases {busiest:.2f} on {meta.get('nproc')} cores",
        f"I/O pressure (60 s, % of time waiting) up to {io:.1f}; other busy processes seen: {others or 'none'}",
        f"took {meta.get('total_secs', '?')} s"
        + (f" (plus {meta['build_secs']} s of install and build)" if meta.get("build_secs", "0") != "0" else "")
        + f"; {meta.get('date')}",
    ]


DISK_UNITS = {"seq_write_fdatasync": "MB/s", "write_4k_dsync": "us"}


def disk_summary(disk):
    """{test: summary of every sample, with "start" and "end": the summaries of each measurement}."""
    out = {}
    for test, unit in DISK_UNITS.items():
        every = [v for (t, _), values in disk.items() if t == test for v in values]
        if every:
            out[test] = summary(every, unit) | {
                when: summary(disk[(test, when)], unit) for when in ("start", "end") if (test, when) in disk}
    return out


def disk_lines(disk, results, backends, payload):
    if not disk:
        return []

    def figures(when):
        seq, dsync = disk.get(("seq_write_fdatasync", when)), disk.get(("write_4k_dsync", when))
        parts = [f"sequential write {statistics.median(seq):.0f} MB/s with fdatasync" if seq else "",
                 f"4 KiB O_DSYNC write {statistics.median(dsync):.0f} us" if dsync else ""]
        return "; ".join(p for p in parts if p)

    # The comparisons use the best the disk showed: other work only ever slows it down.
    every = disk_summary(disk)
    seq = every.get("seq_write_fdatasync", {}).get("max")
    dsync = every.get("write_4k_dsync", {}).get("min")
    lines = [f"disk: {figures('start')} (median, before the backends)"]
    if ("write_4k_dsync", "end") in disk:
        lines.append(f"      {figures('end')} (median, after them)")
    if seq and dsync:
        lines.append(f"      best seen: {seq:.0f} MB/s sequential, {dsync:.0f} us per synced 4 KiB write "
                     f"({1e6 / dsync:.0f}/s); the backends against it:")
    over = False
    for backend in backends:
        mine = results.get(backend, {})
        notes = []
        one = mine.get("sync-appenders-1") or mine.get("kv-put-b1/sync:on")
        if one and dsync:
            notes.append(f"one synced append at a time {number(one['median'])}/s = "
                         f"{one['median'] * dsync / 1e6 * 100:.0f}% of the disk's synced writes/s")
        bulk = mine.get("kv-put-b1000/sync:on")
        space = mine.get("space-after-append")
        if bulk and seq:
            per_event = space["median"] if space else payload
            notes.append(f"synced raw puts of 1000 write {bulk['median'] * per_event / 1e6:.0f} MB/s of "
                         f"{'stored' if space else 'payload'} bytes = {bulk['median'] * per_event / 1e6 / seq * 100:.0f}% "
                         f"of sequential")
        if notes:
            lines.append(f"  {backend}: " + "; ".join(notes))
            over |= bool(one and dsync and one["median"] * dsync / 1e6 > 1.1)
    if over:
        lines.append("  (far above 100 %: the disk was busier while dd ran than during the backends' runs; "
                     "on a shared machine, see the I/O pressure above)")
    return lines


def table_lines(workloads, results, backends):
    label_width = max([len("workload [unit]")] + [len(w) + len(wl.BY_NAME[wl.base_name(w)][2]) + 3 for w in workloads])
    cells = {(w, b): cell(results.get(b, {}).get(w)) for w in workloads for b in backends}
    widths = {b: max([len(b)] + [len(cells[(w, b)]) for w in workloads]) for b in backends}
    header = "workload [unit]".ljust(label_width) + "  " + "  ".join(b.rjust(widths[b]) for b in backends)
    lines = [header, "-" * len(header)]
    group = None
    for w in workloads:
        g = wl.BY_NAME[wl.base_name(w)][1]
        if g != group:
            lines.append(f"{g}:")
            group = g
        label = f"{w} [{wl.BY_NAME[wl.base_name(w)][2]}]"
        lines.append(label.ljust(label_width) + "  " + "  ".join(cells[(w, b)].rjust(widths[b]) for b in backends))
    return lines


def main(run_dir):
    raw = os.path.join(run_dir, "raw")
    meta = read_meta(raw)
    backends = [b for b in meta.get("backends", "").split(",") if b]
    sync_modes = {"on": ["on"], "off": ["off"]}.get(meta.get("sync"), ["on", "off"])
    samples, disk, load = collect(raw)
    workloads = ordered_workloads(samples, sync_modes)
    results = {b: {w: summary(v, wl.BY_NAME[wl.base_name(w)][2]) | {"sync": wl.sync_of(w)}
                   for w, v in samples.get(b, {}).items() if wl.base_name(w) in wl.BY_NAME}
               for b in backends}
    winners = [line for line in (winner_line(w, results, backends) for w in workloads) if line]
    payload = int(meta.get("payload_bytes", "100"))

    machine = {k: meta.get(k) for k in ("host", "nproc", "cpu", "memory_kib", "kernel", "os", "data_dir",
                                         "filesystem", "statfs_type", "device")}
    document = {
        "schema": 1,
        "date": meta.get("date"),
        "machine": machine,
        "build": {k: meta.get(k) for k in ("build_dir", "build_type", "compiler", "commit")},
        "settings": {k: meta.get(k) for k in ("backends", "workloads", "payload_bytes", "payloads", "sync", "events",
                                               "repetitions", "quick")},
        "load": {"start": meta.get("loadavg_start"), "end": meta.get("loadavg_end"), "phases": load},
        "phase_secs": {k[len("phase_secs_"):]: int(v) for k, v in meta.items() if k.startswith("phase_secs_")},
        "total_secs": int(meta.get("total_secs", "0") or 0),
        "backend_options": {b: backend_options.options(b) for b in backends},
        "disk": disk_summary(disk),
        "workloads": [{"id": w, "name": wl.base_name(w), "group": wl.BY_NAME[wl.base_name(w)][1],
                       "sync": wl.sync_of(w), "unit": wl.BY_NAME[wl.base_name(w)][2],
                       "higher_is_better": wl.BY_NAME[wl.base_name(w)][3],
                       "description": wl.BY_NAME[wl.base_name(w)][4]} for w in workloads],
        "results": results,
        "winners": winners,
    }
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump(document, f, indent=1)

    mem_gib = f"{int(meta.get('memory_kib', '0') or 0) / 1048576:.1f}"
    with open(os.path.join(run_dir, "results.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(CSV_COLUMNS)
        for b in backends:
            options = ";".join(f"{k}={v}" for k, v in backend_options.options(b).items())
            for w in workloads:
                r = results[b].get(w)
                if r is None:
                    continue
                _, group, unit, higher, _ = wl.BY_NAME[wl.base_name(w)]
                out.writerow([b, w, group, r["sync"], unit, int(higher), f"{r['median']:.6g}", f"{r['min']:.6g}",
                              f"{r['max']:.6g}", r["n"], meta.get("payload_bytes"), meta.get("payloads"), meta.get("events"),
                              meta.get("build_type"), meta.get("filesystem"), meta.get("nproc"), mem_gib,
                              meta.get("kernel"), options])

    text = ["Goethe backend comparison", ""] + machine_lines(meta, load) + [""]
    text += table_lines(workloads, results, backends)
    text += ["", "cells: median [min..max] over the repetitions; k = 10^3, M = 10^6", ""]
    text += ["winners:"] + ["  " + w["line"] for w in winners] + [""]
    text += disk_lines(disk, results, backends, payload)
    missing = [f"{b}: {w}" for b in backends for w in workloads if w not in results[b]]
    if missing:
        text += ["", "no figure (a run failed; see raw/): " + ", ".join(missing)]
    report = "\n".join(text) + "\n"
    with open(os.path.join(run_dir, "report.txt"), "w") as f:
        f.write(report)
    print(report)
    return charts.draw(run_dir, workloads, results, backends)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
