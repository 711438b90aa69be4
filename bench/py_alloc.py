"""py_alloc.py - an allocation-heavy Python workload for bench/run.sh.

Run with PYTHONMALLOC=malloc so that every Python object goes through malloc/free (instead of
pymalloc's arenas) and the allocator under test sees all of it. The work mixes what real Python
programs allocate: small objects (tuples, ints, short strings), dicts that grow and shrink, lists,
JSON encoding/decoding, regular expressions and sorting. Deterministic; prints a checksum.
"""
import json
import random
import re
import sys

rng = random.Random(12345)
WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 8
checksum = 0
table = {}
word_re = re.compile(r"([a-z]+)-(\d+)")

for r in range(rounds):
    # dict churn: insert many short-lived string keys, delete most of them
    for i in range(20000):
        k = "%s-%d" % (rng.choice(WORDS), rng.randrange(100000))
        table[k] = (i, k.upper(), [i] * (i % 7))
    for k in list(table)[: len(table) * 3 // 4]:
        del table[k]
    # records -> JSON -> records
    recs = [{"id": i, "name": rng.choice(WORDS) * (1 + i % 5), "tags": [rng.random() for _ in range(i % 9)]}
            for i in range(5000)]
    blob = json.dumps(recs)
    back = json.loads(blob)
    checksum += len(blob) + len(back)
    # regex over generated text, then sort by several keys
    text = " ".join("%s-%d" % (rng.choice(WORDS), rng.randrange(1000)) for _ in range(10000))
    pairs = [(m.group(1), int(m.group(2))) for m in word_re.finditer(text)]
    pairs.sort(key=lambda p: (p[1], p[0]))
    checksum += pairs[0][1] + pairs[-1][1] + len(table)
    checksum %= 1 << 61

print("rounds=%d checksum=%d" % (rounds, checksum))
