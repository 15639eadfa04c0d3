#!/usr/bin/env python3
"""Recomputes ledger-audit's events digest (SHA-256, ledger-audit-canonical-v1) from a JSONL
extract, independently of the tool: proof that a report's digest covers exactly these events.

    scripts/events-digest.py events.jsonl [--as-of-ms T]

Canonical encoding of one event: a JSON array, no whitespace, of the 13 columns in table order
(event_id, event_type, aggregate_id, stream_version, causation_id, correlation_id, hlc_physical,
hlc_logical, vector_clock, payload, metadata, user_id, recorded_at as integer microseconds since
the Unix epoch, UTC); UUIDs lower-case; JSON columns as PostgreSQL's jsonb prints them: keys
shorter first, then bytewise (last duplicate wins), ", " between members and elements, ": " after
keys; numbers exactly as written; strings escaping only quote, backslash and control characters. The digest is SHA-256 over every event in scope,
in global order (hlc_physical, hlc_logical, event_id), each encoding followed by a newline.
"""
import datetime, hashlib, json, re, sys

class Num(str):
    """A JSON number kept as its exact text."""

def load(text):
    return json.loads(text, parse_float=Num, parse_int=Num, object_pairs_hook=lambda pairs: dict(pairs))

def esc(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"': out.append('\\"')
        elif ch == '\\': out.append('\\\\')
        elif ch == '\n': out.append('\\n')
        elif ch == '\r': out.append('\\r')
        elif ch == '\t': out.append('\\t')
        elif ch == '\b': out.append('\\b')
        elif ch == '\f': out.append('\\f')
        elif o < 0x20: out.append('\\u%04x' % o)
        else: out.append(ch)
    out.append('"')
    return ''.join(out)

def canon(v):
    if isinstance(v, Num): return str(v)
    if v is None: return 'null'
    if v is True: return 'true'
    if v is False: return 'false'
    if isinstance(v, str): return esc(v)
    if isinstance(v, list): return '[' + ', '.join(canon(x) for x in v) + ']'
    keys = sorted(v.keys(), key=lambda k: (len(k.encode()), k.encode()))
    return '{' + ', '.join(esc(k) + ': ' + canon(v[k]) for k in keys) + '}'

def micros(ts):
    m = re.match(r'(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,6}))?(Z|z|[+-]\d\d(?::?\d\d)?)$', ts)
    y, mo, d, h, mi, s, frac, zone = m.groups()
    dt = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=datetime.timezone.utc)
    us = int(dt.timestamp()) * 1_000_000 + int((frac or '0').ljust(6, '0'))
    if zone not in ('Z', 'z'):
        sign = -1 if zone[0] == '-' else 1
        digits = zone[1:].replace(':', '')
        off = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) >= 4 else 0)
        us -= sign * off * 1_000_000
    return us

def uid(v):
    return 'null' if v is None else '"' + v.lower() + '"'

def main():
    path = sys.argv[1]
    as_of = int(sys.argv[sys.argv.index('--as-of-ms') + 1]) if '--as-of-ms' in sys.argv else None
    rows = []
    for line in open(path, encoding='utf-8'):
        if not line.strip(): continue
        e = load(line)
        if as_of is not None and int(e['hlc_physical']) > as_of: continue
        enc = '[' + ','.join([
            uid(e['event_id']), esc(e['event_type']), uid(e['aggregate_id']), str(int(e['stream_version'])),
            uid(e.get('causation_id')), uid(e['correlation_id']), str(int(e['hlc_physical'])), str(int(e['hlc_logical'])),
            canon(e['vector_clock']), canon(e['payload']), canon(e['metadata']), uid(e.get('user_id')),
            str(micros(e['recorded_at'])),
        ]) + ']'
        rows.append(((int(e['hlc_physical']), int(e['hlc_logical']), e['event_id'].lower()), enc))
    rows.sort(key=lambda r: r[0])
    h = hashlib.sha256()
    for _, enc in rows: h.update(enc.encode('utf-8') + b'\n')
    print(h.hexdigest())

if __name__ == '__main__':
    main()
