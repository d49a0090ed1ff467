#!/usr/bin/env python3
"""Polls the fleet API's /fleet/v1/state for bench/agent-load.sh (stdlib only).

  agent-load-probe.py all  URL PREFIX N TIMEOUT_S
      polls every 50 ms until N units whose name starts with PREFIX are active/running (all
      pages every 250 ms; in between a poll ends at the first page showing one not running);
      prints the seconds it took and exits 0 (1 on timeout, printing the count); each change
      of the count goes to stderr with its time
  agent-load-probe.py unit URL UNIT ACTIVE SUB TIMEOUT_S
      polls every 20 ms (?unitName=UNIT) until the unit is reported ACTIVE/SUB; prints the
      milliseconds it took and exits 0 (1 on timeout, printing what was last reported)
  agent-load-probe.py start URL TEMPLATE N THREADS
      creates instances 1..N of the submitted TEMPLATE (name@.service) with desiredState
      launched, by PUT /fleet/v1/units/<instance> with the template's options (as fleetctl
      does), THREADS requests at a time; prints the seconds it took
"""
import concurrent.futures
import json
import os
import sys
import time
import urllib.parse
import urllib.request


pages = 0  # pages of /fleet/v1/state read


def state_pages(url, unit=None):
    """The states of /fleet/v1/state (?unitName=UNIT), a page at a time, following nextPageToken:
    (the page's states, whether a page follows)."""
    global pages
    token = None
    while True:
        q = {}
        if unit:
            q["unitName"] = unit
        if token:
            q["nextPageToken"] = token
        full = url.rstrip("/") + "/fleet/v1/state" + ("?" + urllib.parse.urlencode(q) if q else "")
        with urllib.request.urlopen(full, timeout=5) as r:
            page = json.load(r)
        pages += 1
        token = page.get("nextPageToken")
        yield page.get("states", []), bool(token)
        if not token:
            return


def states(url, unit=None):
    return [s for page, _ in state_pages(url, unit) for s in page]


def running(url, prefix, full):
    """How many units named PREFIX... are active/running; None (not all) when not full and a page
    showed one that is not, before the last page."""
    count, behind = 0, False
    for page, more in state_pages(url):
        for s in page:
            if s["name"].startswith(prefix):
                if s.get("systemdActiveState") == "active" and s.get("systemdSubState") == "running":
                    count += 1
                else:
                    behind = True
        if more and behind and not full:
            return None
    return count


def start(url, template, n, threads):
    with urllib.request.urlopen(url.rstrip("/") + "/fleet/v1/units/" + urllib.parse.quote(template), timeout=10) as r:
        options = json.load(r)["options"]
    prefix, suffix = template.split("@.", 1)

    def put(i):
        name = "%s@%d.%s" % (prefix, i, suffix)
        body = json.dumps({"name": name, "desiredState": "launched", "options": options}).encode()
        req = urllib.request.Request(url.rstrip("/") + "/fleet/v1/units/" + urllib.parse.quote(name), data=body,
                                     method="PUT", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            if r.status not in (201, 204):
                raise RuntimeError("PUT %s: HTTP %d" % (name, r.status))

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, range(1, n + 1)))


def main(argv):
    mode, url = argv[1], argv[2]
    t0 = time.monotonic()
    if os.environ.get("PROBE_T0"):
        # the caller's start (epoch seconds), taken before this interpreter started: its start-up
        # (0.1-0.5 s on a busy machine) would otherwise be left out of every time measured
        t0 -= time.time() - float(os.environ["PROBE_T0"])
    if mode == "all":
        prefix, n, timeout = argv[3], int(argv[4]), float(argv[5])
        count, last, counted_at = 0, -1, 0.0
        while time.monotonic() - t0 < timeout:
            # every 250 ms all pages, for the count over time; in between a poll stops at the first
            # page that shows one of the units not active/running: each unit has one state (one
            # machine), so then not all are, and the pages after it (each one more request to the
            # API, which competes with the units starting) would not change the answer
            full = time.monotonic() - counted_at >= 0.25
            got = running(url, prefix, full)
            if got is None:
                time.sleep(0.05)
                continue
            count = got
            if full:
                counted_at = time.monotonic()
            if count != last:
                print("%.2f s: %d active/running" % (time.monotonic() - t0, count), file=sys.stderr, flush=True)
                last = count
            if count >= n:
                print("%.2f" % (time.monotonic() - t0))
                if os.environ.get("PROBE_CPU_OUT"):  # its own CPU (user+sys s), for the caller's CPU budget
                    with open(os.environ["PROBE_CPU_OUT"], "w") as f:
                        f.write("%.2f (%d pages read)\n" % (os.times().user + os.times().system, pages))
                return 0
            time.sleep(0.05)
        print("timeout: %d of %d active/running after %.0f s" % (count, n, timeout))
        return 1
    if mode == "unit":
        unit, active, sub, timeout = argv[3], argv[4], argv[5], float(argv[6])
        last = None
        while time.monotonic() - t0 < timeout:
            got = states(url, unit)
            last = (got[0].get("systemdActiveState"), got[0].get("systemdSubState")) if got else None
            if last == (active, sub):
                print("%.0f" % ((time.monotonic() - t0) * 1000))
                return 0
            time.sleep(0.02)
        print("timeout: %s last reported %s" % (unit, last))
        return 1
    if mode == "start":
        start(url, argv[3], int(argv[4]), int(argv[5]))
        print("%.2f" % (time.monotonic() - t0))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
