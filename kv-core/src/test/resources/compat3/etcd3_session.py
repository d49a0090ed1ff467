"""python3-etcd3 (the gRPC client) session for the compat3 tests: run against etcd and kvd.

Usage: /usr/bin/python3 etcd3_session.py HOST PORT

Prints one line per observation. Revisions are printed as offsets from the session's start
(R+3), leases by grant order (lease1), so that two servers' transcripts can be compared as text.
Lines starting with BROKEN report a guarantee that does not hold on the server.
"""
import sys
import threading
import time

import etcd3
import grpc

host, port = sys.argv[1], int(sys.argv[2])
c = etcd3.client(host=host, port=port, timeout=10)
t = c.transactions
base = c.get_response('probe').header.revision
leases = []


def out(*args):
    print(*args, flush=True)


def rel(r):
    return '0' if r == 0 else 'R%+d' % (r - base)


def lid(i):
    if i == 0:
        return '-'
    return 'lease%d' % (leases.index(i) + 1) if i in leases else '?'


def dec(b):
    return b.decode() if isinstance(b, bytes) else str(b)


def meta(value, m):
    if m is None:
        return 'none'
    return '%s=%s c%s m%s v%d %s' % (dec(m.key), dec(value), rel(m.create_revision), rel(m.mod_revision),
                                    m.version, lid(m.lease_id))


def pbkv(kv):
    return '%s=%s c%s m%s v%d %s' % (dec(kv.key), dec(kv.value), rel(kv.create_revision), rel(kv.mod_revision),
                                    kv.version, lid(kv.lease))


def error(f):
    try:
        return 'no error: %r' % (f(),)
    except grpc.RpcError as e:
        return 'RpcError %s: %s' % (e.code(), e.details())
    except Exception as e:  # etcd3's own exceptions
        return '%s: %s' % (type(e).__name__, e)


def wait_for(cond, what, timeout=15):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            out('BROKEN: gave up waiting for', what)
            return
        time.sleep(0.05)  # poll interval; the loop re-checks the condition


def txn_responses(responses):
    shown = []
    for r in responses:
        if isinstance(r, list):
            shown.append('get[' + ', '.join(meta(v, m) for v, m in r) + ']')
        else:
            kind = r.WhichOneof('response')
            inner = getattr(r, kind)
            shown.append('%s rev %s' % (kind, rel(inner.header.revision)))
    return shown


# --- put, get, prefix, range, delete
out('put a', rel(c.put('/py/a', '1').header.revision))
out('put b', rel(c.put('/py/b', '2').header.revision))
out('put c', rel(c.put('/py/c', '3').header.revision))
r = c.put('/py/a', '11', prev_kv=True)
out('put a again', rel(r.header.revision), 'prev', pbkv(r.prev_kv))
out('get a', meta(*c.get('/py/a')))
out('get missing', c.get('/py/missing'))
out('get prefix', [meta(v, m) for v, m in c.get_prefix('/py/')])
out('get prefix by value descending', [meta(v, m) for v, m in c.get_prefix('/py/', sort_order='descend',
                                                                             sort_target='value')])
out('get prefix keys only', [meta(v, m) for v, m in c.get_prefix('/py/', keys_only=True)])
out('get range [a, c)', [meta(v, m) for v, m in c.get_range('/py/a', '/py/c')])
resp = c.get_prefix_response('/py/')
out('get prefix response', rel(resp.header.revision), resp.count, resp.more)
out('put_if_not_exists a', c.put_if_not_exists('/py/a', 'x'))
out('put_if_not_exists d', c.put_if_not_exists('/py/d', 'x'))
out('replace a 11->12', c.replace('/py/a', '11', '12'))
out('replace a 11->13', c.replace('/py/a', '11', '13'))
d = c.delete('/py/c', prev_kv=True, return_response=True)
out('delete c', d.deleted, [pbkv(kv) for kv in d.prev_kvs], rel(d.header.revision))
out('delete missing', c.delete('/py/missing'))
out('delete prefix /py/d', c.delete_prefix('/py/d').deleted)

# --- transactions
ok, rs = c.transaction(
    compare=[t.value('/py/a') == '12', t.version('/py/a') > 1, t.create('/py/b') != 0, t.mod('/py/b') < base + 100],
    success=[t.put('/py/t', 'x'), t.get('/py/a'), t.delete('/py/b', prev_kv=True)],
    failure=[t.get('/py/a')])
out('txn all true', ok, txn_responses(rs))
ok, rs = c.transaction(compare=[t.value('/py/a') == 'nope'], success=[t.put('/py/never', 'x')],
                       failure=[t.get('/py/a'), t.get('/py/nothing')])
out('txn false', ok, txn_responses(rs))
ok, rs = c.transaction(compare=[t.version('/py/missing') == 0],
                       success=[t.txn(compare=[t.value('/py/a') == '12'],
                                      success=[t.put('/py/nested', 'yes')],
                                      failure=[t.put('/py/nested', 'no')])],
                       failure=[])
out('txn nested', ok, txn_responses(rs), 'nested:', [meta(*c.get('/py/nested'))])
out('txn duplicate key', error(lambda: c.transaction(compare=[], success=[t.put('/py/d', '1'), t.put('/py/d', '2')],
                                                     failure=[])))

# --- leases
long_lease = c.lease(30)
leases.append(long_lease.id)
short = c.lease(1)
leases.append(short.id)
out('lease granted', lid(long_lease.id), 'ttl', long_lease.granted_ttl, '/', lid(short.id), 'ttl', short.granted_ttl)
c.put('/py/l/long', 'x', lease=long_lease)
c.put('/py/l/short', 'y', lease=short)
info = c.get_lease_info(long_lease.id)
remaining = info.TTL
out('lease info', lid(info.ID), 'granted', info.grantedTTL,
    'ttl', '29-30' if remaining in (28, 29) else remaining, 'keys', sorted(dec(k) for k in info.keys))
refreshed = long_lease.refresh()
out('lease refresh', [(lid(x.ID), x.TTL) for x in refreshed])
out('get with lease', meta(*c.get('/py/l/long')))
wait_for(lambda: c.get('/py/l/short')[0] is None, 'the short lease to expire')
out('short lease expired; keys left', [meta(v, m) for v, m in c.get_prefix('/py/l/')])
out('expired lease info', c.get_lease_info(short.id).TTL)
long_lease.revoke()
out('revoked; keys left', [meta(v, m) for v, m in c.get_prefix('/py/l/')])
out('revoke again', error(lambda: c.revoke_lease(long_lease.id)))
out('put with unknown lease', error(lambda: c.put('/py/x', 'y', lease=0x1234)))

# --- watch: history from a revision, then live events while watching
start = c.get_response('probe').header.revision + 1
written = []
for i in range(10):
    c.put('/py/w/%d' % (i % 3), 'h%d' % i)
    written.append('PUT /py/w/%d=h%d' % (i % 3, i))
c.delete('/py/w/0')
written.append('DELETE /py/w/0')
events = []
lock = threading.Lock()


def on_watch(resp):
    with lock:
        for e in resp.events:
            kind = type(e).__name__.replace('Event', '').upper()
            events.append((kind, e))


watch_id = c.add_watch_prefix_callback('/py/w/', on_watch, start_revision=start, prev_kv=True)
for i in range(10, 20):
    c.put('/py/w/%d' % (i % 3), 'l%d' % i)
    written.append('PUT /py/w/%d=l%d' % (i % 3, i))
wait_for(lambda: len(events) >= len(written), 'all watch events')
c.cancel_watch(watch_id)
seen = ['%s %s' % (k, dec(e.key)) + ('=' + dec(e.value) if k == 'PUT' else '') for k, e in events]
if seen != written:
    out('BROKEN: wrote', written, 'but the watch saw', seen)
out('watch from', rel(start), len(events), 'events')
for k, e in events:
    prev = e._event.prev_kv
    out('  %s %s m%s prev %s' % (k, dec(e.key), rel(e.mod_revision), pbkv(prev) if prev.key else '-'))

# the iterator gives no "created" signal: start at the next revision so the write cannot be missed
iterator, cancel = c.watch('/py/once', start_revision=c.get_response('probe').header.revision + 1)
got = []
reader = threading.Thread(target=lambda: got.extend([next(iterator)]))
reader.start()
c.put('/py/once', 'v')
reader.join(10)
cancel()
out('watch iterator', [(type(e).__name__, dec(e.key), dec(e.value)) for e in got])
out('watch_once timeout', error(lambda: c.watch_once('/py/never', timeout=0.5)))

# --- lock
lk = c.lock('py-lock', ttl=10)
out('lock acquire', lk.acquire(timeout=5), 'is_acquired', lk.is_acquired())
out('lock key', [(dec(m.key), 'v%d' % m.version, 'leased' if m.lease_id else 'no lease') for v, m in c.get_prefix('/locks/')])
# Debian's python3-etcd3 0.12 cannot wait for a held lock (its retry wait does not fit the
# packaged tenacity), so a second holder only tries once the first has let go.
other = c.lock('py-lock', ttl=10)
out('lock release', lk.release(), 'is_acquired', lk.is_acquired())
out('second lock acquire', other.acquire(timeout=5))
out('second lock release', other.release())
out('lock keys left', [dec(m.key) for v, m in c.get_prefix('/locks/')])

# --- cluster, status, compaction
members = list(c.members)
out('members', len(members), [(m.name, len(m.peer_urls), len(m.client_urls)) for m in members])
st = c.status()
out('status', st.version, 'leader is a member', st.leader.id in [m.id for m in members])
c.compact(base + 2)
out('compacted at', rel(base + 2))
out('compact again', error(lambda: c.compact(base + 2)))
out('compact future', error(lambda: c.compact(base + 10000)))
out('done')
