#!/usr/bin/env python3
"""CPU of the processes of a benchmark over a window, from two snapshots of /proc (stdlib only).

  cpu-window.py snap OUT LABEL=PID...
      writes OUT: utime, stime, cutime, cstime (clock ticks) of every process on the machine,
      and of every thread of the labelled PIDs
  cpu-window.py diff BEFORE AFTER SECONDS
      prints, in ms of CPU over the window: each labelled process (own, and what it reaped: its
      short children such as systemctl), its busiest threads, and the other processes that used
      CPU, by name (the ones born in the window count from 0; one that ended in it is counted in
      its parent's reaped figure only)

Read once at each end of the window, so it costs nothing in between (a sampler would compete
with what it measures on a two-core machine).
"""
import collections
import json
import os
import re
import sys

HZ = os.sysconf("SC_CLK_TCK")


def stat(path):
    s = open(path).read()
    name = s[s.find("(") + 1:s.rfind(")")]
    f = s[s.rfind(")") + 2:].split()
    # comm, ppid, [utime stime cutime cstime], starttime (ticks after boot: what tells a reused PID)
    return name, int(f[1]), [int(x) for x in f[11:15]], int(f[19])


def snap(out, labels):
    procs, threads = {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            name, ppid, t, start = stat("/proc/%s/stat" % d)
            cmd = open("/proc/%s/cmdline" % d, "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        procs[d] = {"comm": name, "ppid": ppid, "t": t, "start": start, "cmd": cmd[:300]}
    for label, pid in labels.items():
        th = {}
        try:
            for t in os.listdir("/proc/%s/task" % pid):
                try:
                    name, _, ticks, _ = stat("/proc/%s/task/%s/stat" % (pid, t))
                except OSError:
                    continue
                th[t] = [re.sub(r"[-#]?\d+$", "", name), ticks[0] + ticks[1]]
        except OSError:
            pass
        threads[label] = th
    json.dump({"labels": labels, "procs": procs, "threads": threads}, open(out, "w"))


def diff(before, after, secs):
    a, b = json.load(open(before)), json.load(open(after))
    ms = lambda ticks: ticks * 1000 // HZ
    labelled = {pid: label for label, pid in b["labels"].items()}
    rows, others = [], collections.Counter()
    for pid, p in b["procs"].items():
        q = a["procs"].get(pid)
        if q and q.get("start") != p.get("start"):
            q = None  # a PID reused (not a renamed one: a kernel worker takes its work's name)
        d = [x - y for x, y in zip(p["t"], q["t"] if q else [0, 0, 0, 0])]
        if pid in labelled:
            rows.append((labelled[pid], d))
        elif d[0] + d[1] > 0:
            name = p["comm"]
            if "agent-load-probe" in p["cmd"]:
                name = "probe (agent-load-probe.py)"
            elif "dev.flotilla.cli.Fctl" in p["cmd"]:
                name = "fctl"
            others[name] += d[0] + d[1]
    total = 0
    print("CPU over the window (%.2f s), ms: own user+sys [+ reaped children]" % secs)
    for label, d in sorted(rows):
        own, kids = ms(d[0] + d[1]), ms(d[2] + d[3])
        total += own + kids
        th = collections.Counter()
        for t, (name, ticks) in b["threads"].get(label, {}).items():
            th[name] += ticks - a["threads"].get(label, {}).get(t, [name, 0])[1]
        top = ", ".join("%s %d" % (n, ms(v)) for n, v in th.most_common(8) if v > 0)
        print("  %-12s %6d [+%d]%s" % (label, own, kids, ("   threads: " + top) if top else ""))
    for name, v in others.most_common(12):
        total += ms(v)
        print("  %-12s %6d   (not labelled)" % (name, ms(v)))
    print("  total        %6d ms = %.2f cores over the window" % (total, total / 1000 / secs))


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        snap(sys.argv[2], dict(x.split("=", 1) for x in sys.argv[3:]))
    elif sys.argv[1] == "diff":
        diff(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
