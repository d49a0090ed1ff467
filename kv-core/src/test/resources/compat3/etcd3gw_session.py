"""python3-etcd3gw (the gRPC-gateway JSON client) session for the compat3 tests.

Usage: /usr/bin/python3 etcd3gw_session.py HOST PORT

Prints one line per observation: revisions as offsets from the session's start (R+3), leases by
grant order (lease1), cluster and member ids as <id>, so that two servers' transcripts can be
compared as text. Lines starting with BROKEN report a guarantee that does not hold.
"""
import base64
import json
import re
import sys
import threading
import time

import etcd3gw
from etcd3gw.client import Etcd3Client
import requests

host, port = sys.argv[1], int(sys.argv[2])
c = Etcd3Client(host=host, port=port, api_path='/v3/')
url = 'http://%s:%d' % (host, port)
# a fresh kvd is at revision 0, which the JSON leaves out
base = int(c.post(c.get_url('/kv/range'), json={'key': etcd3gw.utils._encode('probe')})['header'].get('revision', 0))
leases = []
REVISIONS = {'revision', 'create_revision', 'mod_revision', 'compact_revision'}


def out(*args):
    line = ' '.join(str(a) for a in args).replace(url, '<client-url>')
    print(re.sub(r'http://127\.0\.0\.1:\d+', '<peer-url>', line), flush=True)


def rel(r):
    r = int(r)
    return '0' if r == 0 else 'R%+d' % (r - base)


def lid(i):
    i = int(i)
    if i == 0:
        return '-'
    return 'lease%d' % (leases.index(i) + 1) if i in leases else '?'


def norm(o, key=None):
    """A gateway answer with what differs between servers by nature taken out."""
    if isinstance(o, dict):
        return {k: norm(v, k) for k, v in sorted(o.items())}
    if isinstance(o, list):
        return [norm(v, key) for v in o]
    if key in REVISIONS:
        return rel(o)
    if key in ('cluster_id', 'member_id', 'raft_term', 'leader', 'raftIndex', 'raftTerm', 'raftAppliedIndex',
               'dbSize', 'dbSizeInUse'):
        return '<n>'
    if key in ('ID', 'id', 'lease') and str(o).lstrip('-').isdigit():
        return lid(o)
    if key in ('key', 'value', 'range_end') and isinstance(o, str):
        try:
            return 'b64:' + base64.b64decode(o).decode()
        except (ValueError, UnicodeDecodeError):
            return 'b64(binary)'
    return o


def show(o):
    return json.dumps(norm(o), sort_keys=True)


def error(f):
    try:
        return 'no error: %r' % (f(),)
    except Exception as e:
        return '%s: %s' % (type(e).__name__, e)


def raw(path, body, api='/v3'):
    """A gateway call by hand: HTTP status, content type and the normalised body."""
    r = requests.post(url + api + path, data=body, timeout=10)
    try:
        shown = show(r.json())
    except ValueError:
        shown = repr(r.text)
    return '%d %s %s' % (r.status_code, r.headers.get('Content-Type'), shown)


def wait_for(cond, what, timeout=15):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            out('BROKEN: gave up waiting for', what)
            return
        time.sleep(0.05)  # poll interval; the loop re-checks the condition


def meta(item):
    value, m = item
    return '%s=%s c%s m%s v%s %s' % (m['key'].decode() if isinstance(m['key'], bytes) else m['key'],
                                    value.decode() if isinstance(value, bytes) else value,
                                    rel(m.get('create_revision', 0)), rel(m.get('mod_revision', 0)),
                                    m.get('version', 0), lid(m.get('lease', 0)))


def b64(s):
    return etcd3gw.utils._encode(s)


# --- put, get, prefix, delete
out('put a', c.put('/gw/a', '1'))
out('put b', c.put('/gw/b', '2'))
out('put c', c.put('/gw/c', '3'))
out('get a', c.get('/gw/a'))
out('get a with metadata', [meta(i) for i in c.get('/gw/a', metadata=True)])
out('get missing', c.get('/gw/missing'))
out('get prefix', [meta(i) for i in c.get_prefix('/gw/')])
out('get prefix descending by mod', [meta(i) for i in c.get_prefix('/gw/', sort_order='descend', sort_target='mod')])
out('create a', c.create('/gw/a', 'x'))
out('create d', c.create('/gw/d', 'x'))
out('replace a 1->11', c.replace('/gw/a', '1', '11'))
out('replace a 1->12', c.replace('/gw/a', '1', '12'))
out('delete c', c.delete('/gw/c'))
out('delete missing', c.delete('/gw/missing'))
out('delete prefix /gw/d', show(c.delete_prefix('/gw/d')))

# --- the JSON itself, by hand, on /v3 and /v3beta
out('range', raw('/kv/range', json.dumps({'key': b64('/gw/'), 'range_end': b64('/gw0')})))
out('range count_only', raw('/kv/range', json.dumps({'key': b64('/gw/'), 'range_end': b64('/gw0'), 'count_only': True})))
out('range limit keys_only', raw('/kv/range', json.dumps({'key': b64('/gw/'), 'range_end': b64('/gw0'), 'limit': 1,
                                                          'keys_only': True})))
out('range camelCase fields', raw('/kv/range', json.dumps({'key': b64('/gw/'), 'rangeEnd': b64('/gw0'),
                                                            'sortOrder': 'DESCEND', 'sortTarget': 'KEY'})))
out('range enum numbers', raw('/kv/range', json.dumps({'key': b64('/gw/'), 'range_end': b64('/gw0'),
                                                        'sort_order': 2, 'sort_target': 0})))
out('range v3beta', raw('/kv/range', json.dumps({'key': b64('/gw/a')}), api='/v3beta'))
out('put prev_kv', raw('/kv/put', json.dumps({'key': b64('/gw/a'), 'value': b64('13'), 'prev_kv': True})))
out('put ignore_value', raw('/kv/put', json.dumps({'key': b64('/gw/a'), 'ignore_value': True})))
out('deleterange prev_kv', raw('/kv/deleterange', json.dumps({'key': b64('/gw/b'), 'prev_kv': True})))
out('range empty key', raw('/kv/range', '{}'))
out('range future revision', raw('/kv/range', json.dumps({'key': b64('/gw/a'), 'revision': '100000'})))
out('put unknown lease', raw('/kv/put', json.dumps({'key': b64('/gw/x'), 'value': b64('y'), 'lease': '4660'})))
out('put value and ignore_value', raw('/kv/put', json.dumps({'key': b64('/gw/x'), 'value': b64('y'), 'ignore_value': True})))
for body in ['garbage', '{"key":}', '{"key" 1}', '{key:1}', '{"key":"YQ==" "b"}', '{"key":"YQ==",}', '{"key":"YQ=="',
             '[1 2]', '[]', '"x"', '1', 'null', '{"key":tru}', '{"key":-}', '{"key":"a\\u00zz"}', '{"key":"YQ"}',
             '{"key":"Y"}', '{"key":"YQ=x"}', '{"key":"YQ==YQ=="}', '{"key":"YQ=="} trailing']:
    out('range body %s' % body, raw('/kv/range', body))
out('txn bad base64 deep inside', raw('/kv/txn', json.dumps({'success': [{'request_put': {'key': b64('k'), 'value': '**'}}]})))
out('range bad json', raw('/kv/range', 'garbage'))
out('range unknown field', raw('/kv/range', json.dumps({'key': b64('/gw/a'), 'nonsense': 1})))
out('range bad base64', raw('/kv/range', json.dumps({'key': '***'})))
out('range empty body', raw('/kv/range', ''))
out('unknown path', raw('/kv/nothing', '{}'))
out('member list', raw('/cluster/member/list', '{}'))
out('status', raw('/maintenance/status', '{}'))
out('alarm list', raw('/maintenance/alarm', json.dumps({'action': 'GET'})))
out('leases', raw('/lease/leases', '{}'))

# --- transactions
txn = {
    'compare': [{'key': b64('/gw/a'), 'result': 'EQUAL', 'target': 'VALUE', 'value': b64('13')},
                {'key': b64('/gw/a'), 'result': 'GREATER', 'target': 'VERSION', 'version': 1},
                {'key': b64('/gw/missing'), 'result': 'EQUAL', 'target': 'CREATE', 'create_revision': 0},
                {'key': b64('/gw/a'), 'result': 'LESS', 'target': 'MOD', 'mod_revision': base + 1000},
                {'key': b64('/gw/a'), 'result': 'EQUAL', 'target': 'LEASE', 'lease': 0}],
    'success': [{'request_put': {'key': b64('/gw/t'), 'value': b64('x')}},
                {'request_range': {'key': b64('/gw/a')}},
                {'request_delete_range': {'key': b64('/gw/nothing')}},
                {'request_txn': {'compare': [{'key': b64('/gw/t'), 'target': 'VALUE', 'value': b64('x')}],
                                 'success': [{'request_put': {'key': b64('/gw/nested'), 'value': b64('yes')}}]}}],
    'failure': [{'request_range': {'key': b64('/gw/a')}}],
}
out('txn', show(c.transaction(txn)))
out('txn not equal', show(c.transaction({'compare': [{'key': b64('/gw/a'), 'result': 'NOT_EQUAL', 'target': 'VALUE',
                                                       'value': b64('13')}],
                                          'success': [{'request_put': {'key': b64('/gw/never'), 'value': b64('x')}}],
                                          'failure': [{'request_range': {'key': b64('/gw/'), 'range_end': b64('/gw0')}}]})))
out('txn duplicate key', error(lambda: c.transaction({'success': [{'request_put': {'key': b64('/gw/d'), 'value': b64('1')}},
                                                                  {'request_delete_range': {'key': b64('/gw/d')}}]})))

# --- leases
lease = c.lease(30)
leases.append(lease.id)
short = c.lease(1)
leases.append(short.id)
out('leases granted', lid(lease.id), lid(short.id))
c.put('/gw/l/long', 'x', lease=lease)
c.put('/gw/l/short', 'y', lease=short)
ttl = lease.ttl()
out('lease ttl', '29-30' if ttl in (28, 29) else ttl)
out('lease refresh', lease.refresh())
out('lease keys', lease.keys())
out('timetolive raw', raw('/kv/lease/timetolive', json.dumps({'ID': str(short.id)})).replace('"TTL": "1"', '"TTL": "<2"').replace('"TTL": "0"', '"TTL": "<2"'))
wait_for(lambda: c.get('/gw/l/short') == [], 'the short lease to expire')
out('short expired; left', [meta(i) for i in c.get_prefix('/gw/l/')])
out('expired lease ttl', short.ttl())
out('revoke', lease.revoke())
out('revoked; left', [meta(i) for i in c.get_prefix('/gw/l/')])
out('revoke again', error(lease.revoke))
out('timetolive unknown', raw('/kv/lease/timetolive', json.dumps({'ID': '4660'})))
out('keepalive unknown', raw('/lease/keepalive', json.dumps({'ID': '4660'})))

# --- watch: from a revision, then live
start = int(c.post(c.get_url('/kv/range'), json={'key': b64('probe')})['header']['revision']) + 1
written = []
for i in range(6):
    c.put('/gw/w/%d' % (i % 2), 'h%d' % i)
    written.append('PUT /gw/w/%d=h%d' % (i % 2, i))
c.delete('/gw/w/0')
written.append('DELETE /gw/w/0')
events = []
iterator, cancel = c.watch_prefix('/gw/w/', start_revision=start)


def reader():
    for e in iterator:
        events.append(e)


thread = threading.Thread(target=reader, daemon=True)
thread.start()
for i in range(6, 10):
    c.put('/gw/w/%d' % (i % 2), 'l%d' % i)
    written.append('PUT /gw/w/%d=l%d' % (i % 2, i))
wait_for(lambda: len(events) >= len(written), 'all watch events')
cancel()
seen = ['%s %s' % (e.get('type', 'PUT'), e['kv']['key'].decode())
        + ('=' + e['kv']['value'].decode() if e.get('type', 'PUT') == 'PUT' else '') for e in events]
if seen != written:
    out('BROKEN: wrote', written, 'but the watch saw', seen)
out('watch from', rel(start), len(events), 'events')
for e in events:
    kv = dict(e['kv'])
    key = kv.pop('key').decode()
    value = kv.pop('value', b'').decode()
    out('  ', e.get('type', 'PUT'), key, value, json.dumps(norm(kv), sort_keys=True))

# the raw stream: a create answer, then the events, one JSON object per line
r = requests.post(url + '/v3/watch', data=json.dumps({'create_request': {'key': b64('/gw/w/1'), 'start_revision': str(start)}}),
                  stream=True, timeout=10)
lines = []
for line in r.iter_lines():
    if line:
        lines.append(show(json.loads(line)))
    if len(lines) >= 2:
        break
r.close()
out('raw watch', r.status_code, r.headers.get('Content-Type'))
for line in lines:
    out('  ', line)
r = requests.post(url + '/v3/watch', data=json.dumps({'create_request': {'key': b64('/gw/w/1'), 'start_revision': '1'}}),
                  stream=True, timeout=10)
lines = []
for line in r.iter_lines():
    if line:
        lines.append(show(json.loads(line)))
    if len(lines) >= 2:
        break
r.close()
out('raw watch before compaction (none yet)', lines[0])

# --- lock
lk = c.lock('gw-lock', ttl=10)
leases_before = len(leases)
out('lock acquire', lk.acquire(), 'is_acquired', lk.is_acquired())
other = c.lock('gw-lock', ttl=10)
out('second lock acquire while held', other.acquire())
out('lock release', lk.release(), 'is_acquired', lk.is_acquired())
out('second lock acquire', other.acquire(), 'release', other.release())

# --- compaction
out('compact', raw('/kv/compaction', json.dumps({'revision': str(base + 2)})))
out('compact again', raw('/kv/compaction', json.dumps({'revision': str(base + 2)})))
out('range compacted', raw('/kv/range', json.dumps({'key': b64('/gw/a'), 'revision': str(base + 1)})))
r = requests.post(url + '/v3/watch', data=json.dumps({'create_request': {'key': b64('/gw/a'), 'start_revision': str(base + 1)}}),
                  stream=True, timeout=10)
lines = []
for line in r.iter_lines():
    if line:
        lines.append(show(json.loads(line)))
    if len(lines) >= 2:
        break
r.close()
out('raw watch from a compacted revision')
for line in lines:
    out('  ', line)
out('members', [(m['name'], len(m['peerURLs']), len(m['clientURLs'])) for m in c.members()])
out('done')
