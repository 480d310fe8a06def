#!/usr/bin/env python3
"""Checks that a comparison run wrote a complete report; asserts nothing about speed.

usage: check_report.py OUT_ROOT [BACKEND,...]
Takes the newest run folder under OUT_ROOT and checks: results.json parses and has a figure for
every backend and every workload of the quick matrix (in-process, server with sync on and off,
space, recovery) plus the disk reference; results.csv parses with the expected columns and one
row per backend x workload; throughput.png and latency.png exist and are non-empty PNGs.
"""
import csv
import json
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
import workloads as wl  # noqa: E402

QUICK_ONLY_ABSENT = {"seek-by-time-1M"}  # --quick seeks on 10^4 events only


def expected_workloads(sync_modes):
    ids = []
    for name, *_ in wl.CATALOGUE:
        if name in QUICK_ONLY_ABSENT:
            continue
        ids += [wl.workload_id(name, s) for s in sync_modes] if name in wl.SYNC_DEPENDENT else [name]
    return ids


def main(out_root, backends):
    runs = sorted(d for d in os.listdir(out_root) if os.path.isdir(os.path.join(out_root, d)))
    assert runs, f"no run folder under {out_root}"
    run = os.path.join(out_root, runs[-1])
    problems = []

    document = json.load(open(os.path.join(run, "results.json")))
    for key in ("machine", "settings", "build", "backend_options", "disk", "workloads", "results", "winners"):
        if key not in document:
            problems.append(f"results.json has no '{key}'")
    sync_modes = {"on": ["on"], "off": ["off"]}.get(document["settings"]["sync"], ["on", "off"])
    expected = expected_workloads(sync_modes)
    for backend in backends:
        got = document["results"].get(backend, {})
        for workload in expected:
            r = got.get(workload)
            if r is None:
                problems.append(f"results.json: no {workload} for {backend}")
            elif not all(k in r for k in ("median", "min", "max", "unit", "sync")):
                problems.append(f"results.json: {backend} {workload} lacks median/min/max/unit/sync")
    for key in ("seq_write_fdatasync", "write_4k_dsync"):
        if key not in document.get("disk", {}):
            problems.append(f"results.json: no disk figure {key}")
    for key in ("nproc", "memory_kib", "kernel", "filesystem"):
        if not document["machine"].get(key):
            problems.append(f"results.json: machine.{key} is empty")

    with open(os.path.join(run, "results.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or list(rows[0].keys()) != report.CSV_COLUMNS:
        problems.append(f"results.csv: columns {list(rows[0].keys()) if rows else None} != {report.CSV_COLUMNS}")
    pairs = {(r["backend"], r["workload"]) for r in rows}
    for backend in backends:
        for workload in expected:
            if (backend, workload) not in pairs:
                problems.append(f"results.csv: no row {backend} x {workload}")
    for r in rows:
        try:
            float(r["median"]), float(r["min"]), float(r["max"])
        except ValueError:
            problems.append(f"results.csv: not numbers in {r}")

    for png in ("throughput.png", "latency.png"):
        path = os.path.join(run, png)
        if not os.path.isfile(path) or os.path.getsize(path) < 1000:
            problems.append(f"{png} is missing or empty")
        elif open(path, "rb").read(8) != b"\x89PNG\r\n\x1a\n":
            problems.append(f"{png} is not a PNG")
    if not os.path.getsize(os.path.join(run, "report.txt")):
        problems.append("report.txt is empty")

    for p in problems:
        print("FAIL:", p)
    print(f"{run}: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], (sys.argv[2] if len(sys.argv) == 3 else "leveldb,rocksdb,lmdb").split(",")))
