"""The report's charts, drawn with gnuplot (Debian gnuplot-nox): throughput per workload with one
bar per backend (throughput.png), and the live-tail latency percentiles per backend (latency.png).
Bars are medians; the error bars span min..max over the repetitions. Data and scripts are kept
in raw/ so a chart can be redrawn or restyled by hand."""
import os
import subprocess

import workloads as wl

RATE_UNITS = ("ev/s", "ops/s", "seeks/s", "calls/s")
COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948"]


def write_data(path, rows, backends):
    """rows: [(label, {backend: result})]; columns per backend: median, min, max ('?' when absent)."""
    with open(path, "w") as f:
        f.write("# label " + " ".join(f"{b} {b}_min {b}_max" for b in backends) + "\n")
        for label, per_backend in rows:
            values = []
            for b in backends:
                r = per_backend.get(b)
                values += [f"{r['median']:.6g}", f"{r['min']:.6g}", f"{r['max']:.6g}"] if r else ["?", "?", "?"]
            f.write(f'"{label}" ' + " ".join(values) + "\n")


def panel(data, title, ylabel, backends, logscale):
    """One clustered bar chart of a data file: a bar per backend, error bars min..max."""
    plots = ", ".join(f"'{data}' using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}:xtic(1) title '{b}' "
                      f"lc rgb '{COLOURS[i % len(COLOURS)]}'" for i, b in enumerate(backends))
    return f"""set title '{title}'
set ylabel '{ylabel}'
{'set logscale y' if logscale else 'unset logscale y; set yrange [0:*]'}
plot {plots}
"""


def draw_one(raw, name, panels, backends, ylabel, logscale):
    """panels: [(title, rows)], drawn one above the other into NAME.png beside raw/."""
    panels = [(title, rows) for title, rows in panels if rows]
    if not panels:
        return True
    script = os.path.join(raw, f"{name}.gp")
    most = max(len(rows) for _, rows in panels)
    width = max(900, 120 + most * (24 + 16 * len(backends)))
    text = f"""set terminal pngcairo size {width},{380 * len(panels) + 40} font 'sans,10' noenhanced
set output '{os.path.join(os.path.dirname(raw), f"{name}.png")}'
set datafile missing '?'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set xtics rotate by -30 scale 0
set bmargin 8
set rmargin 14
set multiplot layout {len(panels)},1
"""
    for i, (title, rows) in enumerate(panels):
        data = os.path.join(raw, f"{name}-{i + 1}.dat")
        write_data(data, rows, backends)
        log = logscale(rows)
        if log and "log scale" not in title:
            title = title[:-1] + "; log scale)" if title.endswith(")") else title + " (log scale)"
        text += panel(data, title, ylabel, backends, log)
    text += "unset multiplot\n"
    with open(script, "w") as f:
        f.write(text)
    try:
        done = subprocess.run(["gnuplot", script], capture_output=True, text=True)
    except FileNotFoundError:
        print("no gnuplot: install the Debian package gnuplot-nox (bash scripts/install-deps.sh does)")
        return False
    if done.returncode != 0:
        print(f"gnuplot failed on {script}:\n{done.stderr}")
        return False
    return True


def spread(rows):
    values = [r["median"] for _, per in rows for r in per.values() if r["median"] > 0]
    return max(values) / min(values) if values else 1


def draw(run_dir, workloads, results, backends):
    """Writes throughput.png and latency.png into run_dir; returns 0 on success."""
    raw = os.path.join(run_dir, "raw")

    def rows(keep, label=lambda w: w):
        return [(label(w), {b: results[b][w] for b in backends if w in results[b]}) for w in workloads if keep(w)]

    def rate_in(group):
        return lambda w: wl.BY_NAME[wl.base_name(w)][2] in RATE_UNITS and wl.BY_NAME[wl.base_name(w)][1] == group

    ok = draw_one(raw, "throughput",
                  [("In-process throughput (median; error bars min..max; log scale)", rows(rate_in("in-process"))),
                   ("Through the server on loopback (median; error bars min..max; log scale)", rows(rate_in("server")))],
                  backends, "events, gets or seeks per second", logscale=lambda _: True)
    ok &= draw_one(raw, "latency",
                   [("Live-tail latency through the server, produce to delivery (median; error bars min..max)",
                     rows(lambda w: wl.base_name(w).startswith("e2e-"), lambda w: w.replace("e2e-", "")))],
                   backends, "microseconds", logscale=lambda r: spread(r) > 30)
    return 0 if ok else 1
