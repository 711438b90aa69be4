#!/usr/bin/env python3
"""pprof_decode.py — decode a gzip'ed pprof profile (profile.proto) with a wire-format parser
written from the protobuf encoding spec, independent of memscope's encoder (export/cli/
protobuf.c). Used by formats_test.py for the golden text of `--format pprof` and for checks
that do not need Go. As a script: pprof_decode.py FILE prints the canonical text form.
"""
import gzip
import sys

# profile.proto: message -> {field: (name, kind)}; kind: 'int', 'str' (string_table), 'msg:X',
# 'packed' (repeated varints).
SCHEMA = {
    "Profile": {1: ("sample_type", "msg:ValueType"), 2: ("sample", "msg:Sample"),
                3: ("mapping", "msg:Mapping"), 4: ("location", "msg:Location"),
                5: ("function", "msg:Function"), 6: ("string_table", "bytes"),
                9: ("time_nanos", "int"), 10: ("duration_nanos", "int"),
                11: ("period_type", "msg:ValueType"), 12: ("period", "int"),
                13: ("comment", "packed"), 14: ("default_sample_type", "int")},
    "ValueType": {1: ("type", "int"), 2: ("unit", "int")},
    "Sample": {1: ("location_id", "packed"), 2: ("value", "packed")},
    "Mapping": {1: ("id", "int"), 2: ("memory_start", "int"), 3: ("memory_limit", "int"),
                4: ("file_offset", "int"), 5: ("filename", "int"), 6: ("build_id", "int"),
                7: ("has_functions", "int"), 8: ("has_filenames", "int"),
                9: ("has_line_numbers", "int"), 10: ("has_inline_frames", "int")},
    "Location": {1: ("id", "int"), 2: ("mapping_id", "int"), 3: ("address", "int"),
                 4: ("line", "msg:Line")},
    "Line": {1: ("function_id", "int"), 2: ("line", "int")},
    "Function": {1: ("id", "int"), 2: ("name", "int"), 3: ("system_name", "int"),
                 4: ("filename", "int")},
}


def varint(b, i):
    v, s = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def parse(b, kind="Profile"):
    """A dict field name -> list of values (ints, bytes, dicts, or lists for packed)."""
    out, i = {}, 0
    schema = SCHEMA[kind]
    while i < len(b):
        key, i = varint(b, i)
        field, wt = key >> 3, key & 7
        name, k = schema.get(field, (f"unknown_{field}", "raw"))
        if wt == 0:
            v, i = varint(b, i)
            if k == "packed":
                v = [v]  # an unpacked repeated varint is allowed by the spec
        elif wt == 2:
            n, i = varint(b, i)
            raw = b[i:i + n]
            i += n
            if k.startswith("msg:"):
                v = parse(raw, k[4:])
            elif k == "packed":
                v, j = [], 0
                while j < len(raw):
                    x, j = varint(raw, j)
                    v.append(x)
            else:
                v = bytes(raw)
        else:
            raise ValueError(f"{kind}: unexpected wire type {wt} for field {field}")
        if k == "packed":
            out.setdefault(name, []).extend(v)
        else:
            out.setdefault(name, []).append(v)
    return out


def load(path):
    return parse(gzip.open(path).read())


def one(m, k, default=0):
    return m.get(k, [default])[-1]


def text(p, addresses=True):
    """Canonical, human-readable form: strings resolved, ids as written."""
    st = [s.decode("utf-8", "replace") for s in p.get("string_table", [])]
    S = lambda i: st[i] if i < len(st) else f"<bad string {i}>"  # noqa: E731
    lines = []
    for vt in p.get("sample_type", []):
        lines.append(f"sample_type {S(one(vt, 'type'))}/{S(one(vt, 'unit'))}")
    pt = one(p, "period_type", {})
    lines.append(f"period_type {S(one(pt, 'type'))}/{S(one(pt, 'unit'))} period {one(p, 'period')}")
    lines.append(f"default_sample_type {S(one(p, 'default_sample_type'))}")
    for c in p.get("comment", []):
        lines.append(f"comment {S(c)}")
    for s in p.get("sample", []):
        lines.append(f"sample {s.get('value', [])} locations {s.get('location_id', [])}")
    for m in p.get("mapping", []):
        lines.append(f"mapping {one(m, 'id')} {S(one(m, 'filename'))} build_id={S(one(m, 'build_id'))}"
                     + (f" [{one(m, 'memory_start'):#x},{one(m, 'memory_limit'):#x}) off={one(m, 'file_offset'):#x}"
                        if addresses else "")
                     + f" fn={one(m, 'has_functions')} fl={one(m, 'has_filenames')}"
                       f" ln={one(m, 'has_line_numbers')} in={one(m, 'has_inline_frames')}")
    for loc in p.get("location", []):
        ls = " | ".join(f"f{one(l, 'function_id')}:{one(l, 'line')}" for l in loc.get("line", []))
        lines.append(f"location {one(loc, 'id')} mapping {one(loc, 'mapping_id')}"
                     + (f" {one(loc, 'address'):#x}" if addresses else "") + f" {ls}")
    for f in p.get("function", []):
        lines.append(f"function {one(f, 'id')} {S(one(f, 'name'))} ({S(one(f, 'filename'))})")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(text(load(sys.argv[1])))
