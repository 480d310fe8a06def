#!/usr/bin/env python3
"""The backend options a comparison runs with: each plugin's defaults as docs/config.md lists them.

The server config of each run spells them out (so a renamed or removed option fails loudly), and
results.json records them. The in-process benchmarks open their stores with the plugin defaults,
which are these values.
usage: backend_options.py BACKEND --yaml | --json
"""
import json
import sys

LSM_COMMON = {
    "block_cache_size": "8MiB",
    "write_buffer_size": "16MiB",
    "bloom_filter_bits": "10",
    "max_open_files": "1000",
    "paranoid_checks": "true",
}
OPTIONS = {
    "leveldb": {**LSM_COMMON, "compression": "snappy"},
    "rocksdb": {**LSM_COMMON, "compression": "lz4", "max_background_jobs": "2"},
    "lmdb": {
        "map_size": "256MiB",
        "map_growth": "true",
        "max_map_size": "0",
        "no_sync": "false",
        "no_meta_sync": "false",
        "max_readers": "126",
    },
}


def options(backend):
    return OPTIONS.get(backend, {})


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[2] not in ("--yaml", "--json"):
        sys.exit(__doc__)
    chosen = options(sys.argv[1])
    if sys.argv[2] == "--json":
        print(json.dumps(chosen))
    elif not chosen:
        print("{}")
    else:
        for key, value in chosen.items():
            print(f"{key}: {value}")
