"""A python-etcd (0.4.x) session against one etcd v2 server; prints one normalised line per fact.

Run by PythonEtcdCompatTest against real etcd and against kvd: the two outputs must be identical.
Indexes are printed as offsets from the index read first ("i+5"), in-order key names likewise
("seq+5"), member ids and URLs as tokens, TTLs rounded to 10 s, so that only behaviour remains.
Usage: /usr/bin/python3 python_etcd_session.py HOST PORT
"""
import re
import sys
import threading

import etcd

sys.stdout.reconfigure(line_buffering=True)
HOST, PORT = sys.argv[1], int(sys.argv[2])
CLIENT_URL = "http://%s:%d" % (HOST, PORT)

c = etcd.Client(host=HOST, port=PORT, read_timeout=10)
c2 = etcd.Client(host=HOST, port=PORT, read_timeout=10)
BASE = c.read("/").etcd_index


def idx(n):
    if n is None:
        return "none"
    return "i%+d" % (int(n) - BASE)


def norm(s):
    s = str(s)
    s = s.replace(CLIENT_URL, "<client-url>")
    s = re.sub(r"http://127\.0\.0\.1:\d+", "<peer-url>", s)
    s = re.sub(r"(?<=/)\d{20}\b", lambda m: "seq%+d" % (int(m.group()) - BASE), s)
    return s


def member_id(s):
    # Go prints member ids in hex without leading zeros: 1 to 16 digits
    return "<member-id>" if re.fullmatch(r"[0-9a-f]{1,16}", s) else "bad-member-id:" + s


def ttl(t):
    return "none" if t is None else str(int(round(t / 10.0)) * 10)


def show(label, r, etcd_index=True):
    # a watch's X-Etcd-Index is the index when the watcher was registered: racy against the writer
    shown = getattr(r, "etcd_index", None) if etcd_index else None
    print(label, r.action, norm(r.key), repr(r.value), "dir" if r.dir else "file", "ttl=" + ttl(r.ttl),
          "mod=" + idx(r.modifiedIndex), "created=" + idx(r.createdIndex), "etcd_index=" + idx(shown),
          "expiration=" + ("none" if r.expiration is None else "set"))


def error(label, e):
    payload = getattr(e, "payload", None) or {}
    print(label, type(e).__name__, norm(e), "errorCode=%s" % payload.get("errorCode"),
          "cause=" + norm(payload.get("cause")), "index=" + idx(payload.get("index")))


# plain writes, TTL, reads
show("write-ttl", c.write("/py/ttl", "v", ttl=300))
show("read-ttl", c.read("/py/ttl"))
show("refresh", c.refresh("/py/ttl", ttl=600))
show("write-a", c.write("/py/dir/a", "1"))
show("write-b", c.write("/py/dir/b", "2"))
show("write-c", c.write("/py/dir/sub/c", "3"))
tree = c.read("/py/dir", recursive=True, sorted=True)
show("read-recursive", tree)
for leaf in tree.leaves:
    print("  leaf", norm(leaf.key), repr(leaf.value), idx(leaf.modifiedIndex))
top = c.read("/py/dir", sorted=True)
for child in top.children:
    print("  child", norm(child.key), "dir" if child.dir else "file")
print("contains /py/dir/a", "/py/dir/a" in c, "contains /py/nope", "/py/nope" in c)

# in-order keys
for job in ("job1", "job2", "job3"):
    show("append", c.write("/py/queue", job, append=True))
queue = c.read("/py/queue", sorted=True)
print("queue", [norm(n.key) + "=" + n.value for n in queue.children])

# compare-and-swap, update, pop
c.write("/py/cas", "old")
show("test-and-set", c.test_and_set("/py/cas", "new", "old"))
try:
    c.test_and_set("/py/cas", "newer", "old")
except etcd.EtcdCompareFailed as e:
    error("test-and-set-fails", e)
r = c.read("/py/cas")
r.value = "updated"
show("update", c.update(r))
try:
    c.write("/py/cas", "x", prevExist=False)
except etcd.EtcdAlreadyExist as e:
    error("create-exists", e)
show("pop", c.pop("/py/dir/a"))
try:
    c.read("/py/missing")
except etcd.EtcdKeyNotFound as e:
    error("read-missing", e)
try:
    c.delete("/py/dir")
except etcd.EtcdException as e:
    error("delete-dir-plain", e)
show("mkdir", c.write("/py/d2", None, dir=True))
show("rmdir", c.delete("/py/d2", dir=True))

# watch answered by a writer thread (waitIndex makes the result independent of who is first)
next_index = c.read("/").etcd_index + 1
writer = threading.Thread(target=lambda: c2.write("/py/watched", "hello"))
writer.start()
show("watch", c.watch("/py/watched", index=next_index, timeout=10), etcd_index=False)
writer.join()
next_index = c.read("/").etcd_index + 1
writer = threading.Thread(target=lambda: c2.write("/py/wdir/x/y", "deep"))
writer.start()
show("watch-recursive", c.watch("/py/wdir", index=next_index, recursive=True, timeout=10), etcd_index=False)
writer.join()

# etcd.Lock: a second client waits on the first one's key and gets the lock once it is released
lock = etcd.Lock(c, "job")
print("lock-acquire", lock.acquire(blocking=True, lock_ttl=60))
print("lock-is-acquired", lock.is_acquired)
other = etcd.Lock(c2, "job")
print("lock-other-nonblocking", other.acquire(blocking=False, lock_ttl=60))
result = {}
waiter = threading.Thread(target=lambda: result.update(got=other.acquire(blocking=True, lock_ttl=60, timeout=10)))
waiter.start()
lock.release()
waiter.join(15)
print("lock-released", lock.is_acquired)
print("lock-other-after-release", result.get("got"), other.is_acquired)
other.release()
print("lock-other-released", other.is_acquired)
print("locks-left", [norm(n.key) for n in c.read("/_locks/job", sorted=True).children if n.key != "/_locks/job"])

# cluster
members = c.members
print("members", len(members))
for mid, m in sorted(members.items()):
    print("  member", member_id(mid), member_id(m["id"]), m["name"], [norm(u) for u in m["peerURLs"]], [norm(u) for u in m["clientURLs"]])
leader = c.leader
print("leader", leader["name"], member_id(leader["id"]), [norm(u) for u in leader["clientURLs"]])
print("machines", [norm(u) for u in c.machines])
print("version", c.version, c.cluster_version)

show("delete-recursive", c.delete("/py", recursive=True))
