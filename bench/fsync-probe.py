#!/usr/bin/env python3
"""What one write + fdatasync costs on this machine's disk, for the WAL's two segment layouts.

    bench/fsync-probe.py [--dir /tmp] [--writers 3] [--writes 1500] [--bytes 8192]

Each of --writers processes (3: a 3-member cluster on one disk) writes --writes blocks of --bytes,
each followed by fdatasync, into a file of its own, in two layouts, alternated twice:
  append  - every write extends the file (a segment that grows with its appends);
  zeroed  - the file was filled with zeros and synced first (a preallocated segment, WalOptions.preallocate).
Prints, per writer, the wall time and the process CPU (user + system) per write + fdatasync.
"""
import argparse
import multiprocessing as mp
import os
import time


def writer(path, layout, writes, size, results):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    try:
        if layout == "zeroed":
            zeros = b"\0" * (1 << 20)
            for at in range(0, writes * size + (1 << 20), 1 << 20):
                os.pwrite(fd, zeros, at)
            os.fsync(fd)
        block = b"x" * size
        time.sleep(0.3)  # let the other writers finish their set-up
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(writes):
            os.pwrite(fd, block, i * size)
            os.fdatasync(fd)
        results.put(((time.perf_counter() - wall) / writes * 1e6, (time.process_time() - cpu) / writes * 1e6))
    finally:
        os.close(fd)
        os.unlink(path)


def run(layout, args):
    results = mp.Queue()
    procs = [mp.Process(target=writer, args=(os.path.join(args.dir, f"fsync-probe-{os.getpid()}-{k}"),
                                              layout, args.writes, args.bytes, results))
             for k in range(args.writers)]
    for p in procs:
        p.start()
    got = [results.get() for _ in procs]
    for p in procs:
        p.join()
    wall = ", ".join(f"{w:.0f}" for w, _ in got)
    cpu = ", ".join(f"{c:.0f}" for _, c in got)
    print(f"{layout:7} {args.writers} writers: us per write+fdatasync, wall [{wall}], cpu [{cpu}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--writes", type=int, default=1500)
    parser.add_argument("--bytes", type=int, default=8192)
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} dir {args.dir}, {args.bytes}-byte writes, load {os.getloadavg()[0]:.1f}")
    for layout in ("append", "zeroed", "append", "zeroed"):
        run(layout, args)


if __name__ == "__main__":
    main()
