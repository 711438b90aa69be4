#!/usr/bin/env python3
"""redis_data.py - write values of many sizes into a redis server and read every one back.

  redis_data.py write PORT STATE SEED   apply one round of writes (creating or growing the keys
                                        STATE already holds), check every reply, save the model
  redis_data.py check PORT STATE        read every key back and compare it byte for byte with
                                        the model in STATE; also compare DBSIZE

The keys live in database 3 so that redis-benchmark (database 0) never touches them. The
values are random bytes (NUL, CR and LF included) of sizes around every boundary an allocator or
redis's own encodings care about (8/16-byte bins, sds header types at 256 and 65536, listpack
to quicklist/hashtable conversions), and they are built the way that stresses realloc: strings
grown by many APPENDs and by SETRANGE past the end (redis zero-fills the gap), lists by
LPUSH/RPUSH/LSET/LINSERT with pops in between, hashes by HSET with overwrites and HDEL. The
model of what redis must hold is kept here, in plain Python, and saved (pickle) between runs.

Prints one line: "<verb>: N keys, B bytes, replies sha256 H". The hash covers every reply in
order, so two runs with the same seeds against two servers (one untraced) must print the same
line (HGETALL's replies enter it sorted: the field order is redis's own). Any difference, error reply or lost connection exits 1 with one line saying what.
Only the standard library: no redis client package needed.
"""
import hashlib
import pickle
import random
import socket
import sys

DB = 3
# sizes around the boundaries that matter (see the docstring), plus a few large ones
SIZES = [0, 1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 39, 40, 44, 45, 46, 47, 48,
         63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 500, 511, 512, 513, 1000, 1023, 1024,
         1025, 2047, 2048, 4095, 4096, 4097, 8191, 8192, 10000, 16383, 16384, 20000, 32768,
         65535, 65536, 65537, 100000, 262151]


class Fail(Exception):
    pass


class Conn:
    """A minimal RESP2 client: pipelined commands, replies parsed into bytes/int/list."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.rd = self.sock.makefile("rb")
        self.digest = hashlib.sha256()

    def record(self, reply):
        """Hash a reply in a canonical form (HGETALL's order is the server's own: sorted)."""
        self.digest.update(repr(reply).encode() + b"\n")

    def send(self, cmds):
        out = bytearray()
        for args in cmds:
            out += b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return [self.reply() for _ in cmds]

    def line(self):
        s = self.rd.readline()
        if not s.endswith(b"\r\n"):
            raise Fail("connection closed by the server (did it die?)")
        return s[:-2]

    def reply(self):
        s = self.line()
        t, rest = s[:1], s[1:]
        if t == b"+":
            return rest
        if t == b"-":
            raise Fail("error reply: " + rest.decode(errors="replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.rd.read(n + 2)
            if len(data) != n + 2:
                raise Fail("connection closed in the middle of a reply")
            return data[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise Fail("unexpected reply %r" % s[:40])


def run(conn, batch):
    """batch: list of (args, expected or None); every expected reply is compared."""
    for i in range(0, len(batch), 64):
        part = batch[i:i + 64]
        replies = conn.send([args for args, _ in part])
        for (args, want), got in zip(part, replies):
            conn.record(got)
            if want is not None and got != want:
                raise Fail("%s %s: reply %r, expected %r" % (
                    args[0].decode(), args[1].decode(), short(got), short(want)))


def short(v):
    if isinstance(v, (bytes, bytearray)) and len(v) > 40:
        return "%d bytes starting %r" % (len(v), bytes(v[:16]))
    return v


def size(rng):
    n = rng.choice(SIZES)
    if n > 20000 and rng.random() < 0.7:  # a few large values, not megabytes of them
        n //= 16
    return n if rng.random() < 0.7 else rng.randrange(0, 3000)


def value(rng, n):
    return rng.randbytes(n)


def write_round(conn, model, seed):
    rng = random.Random(seed)
    b = []  # (args, expected reply)

    # strings: SET, grown by many APPENDs, SETRANGE past the end and over the middle
    for i in range(180):
        key = b"str:%d" % i
        v = model.setdefault(key, bytearray())
        how = rng.randrange(4)
        if how == 0 or not v:
            v[:] = value(rng, size(rng))
            b.append(([b"SET", key, bytes(v)], b"OK"))
        for _ in range(rng.randrange(1, 40 if how == 1 else 6)):
            chunk = value(rng, rng.choice([1, 1, 2, 3, 5, 8, 13, 30, 100, 700, 5000]))
            v += chunk
            b.append(([b"APPEND", key, chunk], len(v)))
        if how == 2:
            off = len(v) + rng.randrange(0, 2000)
            chunk = value(rng, rng.randrange(1, 300))
            v += bytes(off - len(v))
            v[off:off + len(chunk)] = chunk
            b.append(([b"SETRANGE", key, off, chunk], len(v)))
        if how == 3 and len(v) > 2:
            off = rng.randrange(len(v))
            chunk = value(rng, rng.randrange(1, 400))
            if off + len(chunk) > len(v):
                v += bytes(off + len(chunk) - len(v))
            v[off:off + len(chunk)] = chunk
            b.append(([b"SETRANGE", key, off, chunk], len(v)))

    # lists: pushes at both ends, pops, LSET to a larger element, LINSERT in the middle
    for i in range(70):
        key = b"list:%d" % i
        lst = model.setdefault(key, [])
        for _ in range(rng.randrange(1, 60)):
            e = value(rng, size(rng) if rng.random() < 0.2 else rng.randrange(0, 80))
            if rng.random() < 0.5:
                lst.insert(0, e)
                b.append(([b"LPUSH", key, e], len(lst)))
            else:
                lst.append(e)
                b.append(([b"RPUSH", key, e], len(lst)))
        for _ in range(rng.randrange(0, 4)):
            if len(lst) > 1:
                if rng.random() < 0.5:
                    b.append(([b"LPOP", key], lst.pop(0)))
                else:
                    b.append(([b"RPOP", key], lst.pop()))
        if len(lst) > 2:
            j = rng.randrange(len(lst))
            lst[j] = value(rng, size(rng))
            b.append(([b"LSET", key, j, lst[j]], b"OK"))
            pivot = lst[len(lst) // 2]
            e = value(rng, rng.randrange(0, 500))
            lst.insert(lst.index(pivot), e)  # LINSERT finds the first equal element
            b.append(([b"LINSERT", key, b"BEFORE", pivot, e], len(lst)))

    # hashes: new fields, overwritten fields (often larger), deleted fields
    for i in range(70):
        key = b"hash:%d" % i
        h = model.setdefault(key, {})
        for _ in range(rng.randrange(1, 40)):
            f = b"f%d" % rng.randrange(60)
            v = value(rng, size(rng) if rng.random() < 0.3 else rng.randrange(0, 60))
            b.append(([b"HSET", key, f, v], 0 if f in h else 1))
            h[f] = v
        for _ in range(rng.randrange(0, 3)):
            if len(h) > 1:
                f = rng.choice(sorted(h))
                del h[f]
                b.append(([b"HDEL", key, f], 1))

    # a key must hold something, or redis deletes it (empty lists/hashes cannot happen above)
    run(conn, b)


def check(conn, model):
    b = []
    for key in sorted(model):
        v = model[key]
        if key.startswith(b"str:"):
            b.append(([b"STRLEN", key], len(v)))
            b.append(([b"GET", key], bytes(v)))
        elif key.startswith(b"list:"):
            b.append(([b"LLEN", key], len(v)))
            b.append(([b"LRANGE", key, 0, -1], v))
        else:
            b.append(([b"HLEN", key], len(v)))
            b.append(([b"HGETALL", key], None))
    b.append(([b"DBSIZE"], len(model)))
    # HGETALL's field order is redis's own: compare as a mapping
    for i in range(0, len(b), 64):
        part = b[i:i + 64]
        replies = conn.send([args for args, _ in part])
        for (args, want), got in zip(part, replies):
            if args[0] == b"HGETALL":
                got = dict(zip(got[0::2], got[1::2]))
                want = model[args[1]]
                conn.record(sorted(got.items()))
            else:
                conn.record(got)
            if got != want:
                raise Fail("%s %s: reply %r, expected %r" % (
                    args[0].decode(), args[1].decode() if len(args) > 1 else "",
                    short(got), short(want)))


def nbytes(model):
    t = 0
    for v in model.values():
        if isinstance(v, dict):
            t += sum(len(f) + len(x) for f, x in v.items())
        elif isinstance(v, list):
            t += sum(len(x) for x in v)
        else:
            t += len(v)
    return t


def main(argv):
    if len(argv) < 4 or argv[1] not in ("write", "check") or (argv[1] == "write" and len(argv) != 5):
        print("usage: redis_data.py write PORT STATE SEED | check PORT STATE", file=sys.stderr)
        return 2
    verb, port, state = argv[1], int(argv[2]), argv[3]
    try:
        with open(state, "rb") as f:
            model = pickle.load(f)
    except FileNotFoundError:
        model = {}
    try:
        conn = Conn(port)
        conn.send([[b"SELECT", DB]])
        if verb == "write":
            write_round(conn, model, int(argv[4]))
            with open(state, "wb") as f:
                pickle.dump(model, f)
        else:
            check(conn, model)
    except (Fail, OSError) as e:
        print("FAIL: redis_data.py %s: %s" % (verb, e), file=sys.stderr)
        return 1
    print("%s: %d keys, %d bytes, replies sha256 %s" % (
        verb, len(model), nbytes(model), conn.digest.hexdigest()[:16]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
