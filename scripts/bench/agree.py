#!/usr/bin/env python3
"""Do two runs of the same comparison matrix agree within the noise they report?

usage: scripts/bench/agree.py RUN_A RUN_B   (result folders of scripts/compare-backends.sh, or their results.json)

For every workload and backend measured in both runs, the runs agree when their [min, max] ranges
over the repetitions overlap, so that neither median lies outside what the other run saw as its
noise. Prints one line per figure and a summary; exits 1 when a figure disagrees.
"""
import json
import os
import sys


def load(path):
    if os.path.isdir(path):
        path = os.path.join(path, "results.json")
    with open(path) as f:
        return json.load(f)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    a, b = load(argv[1]), load(argv[2])
    rows, disagree = [], 0
    for backend in sorted(set(a["results"]) & set(b["results"])):
        for workload in sorted(set(a["results"][backend]) & set(b["results"][backend])):
            x, y = a["results"][backend][workload], b["results"][backend][workload]
            agrees = x["min"] <= y["max"] and y["min"] <= x["max"]
            disagree += not agrees
            change = (y["median"] - x["median"]) / x["median"] * 100 if x["median"] else 0.0
            rows.append((backend, workload, x, y, change, agrees))
    print(f"{'backend':8} {'workload':34} {'run A median [min..max]':>32} {'run B median [min..max]':>32} {'B-A':>7}  agree")
    for backend, workload, x, y, change, agrees in rows:
        fmt = lambda r: f"{r['median']:.4g} [{r['min']:.4g}..{r['max']:.4g}]"
        print(f"{backend:8} {workload:34} {fmt(x):>32} {fmt(y):>32} {change:+6.1f}%  {'yes' if agrees else 'NO'}")
    print(f"{len(rows) - disagree} of {len(rows)} figures agree within the ranges their runs report")
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
