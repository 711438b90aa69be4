"""work.py - real Python work for the LD_PRELOAD integration test (test/integration).

Exercises what allocates in CPython: dict churn (growth, deletion, resizing), lists and tuples,
string building, JSON round trips, regular expressions, sorting with keys, sets, a class with
many instances and a generator pipeline. Output is deterministic (seeded RNG; the harness sets
PYTHONHASHSEED=0) and summarises every step, so any corrupted object changes stdout.
"""
import hashlib
import json
import random
import re
import sys
from collections import Counter, defaultdict

rng = random.Random(2024)
WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor".split()


def digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


# dict churn: grow to 50k keys, delete two thirds, grow again
d = {}
for i in range(50000):
    d["k%d-%s" % (i, rng.choice(WORDS))] = [i, str(i) * (i % 5), (i, -i)]
for k in list(d)[::3]:
    del d[k]
for i in range(20000):
    d[("t", i)] = {"v": i, "w": [rng.random()] * 3}
print("dict", len(d), sum(1 for k in d if isinstance(k, tuple)))

# JSON round trip of nested records
recs = [{"id": i, "name": " ".join(rng.sample(WORDS, 3)), "vals": [rng.randrange(1000) for _ in range(i % 11)],
         "meta": {"even": i % 2 == 0, "sq": i * i}} for i in range(20000)]
blob = json.dumps(recs, sort_keys=True)
back = json.loads(blob)
assert back == recs
print("json", len(blob), digest(back[::997]))

# regex over generated text
text = "\n".join("%s=%d; %s@%s.org" % (rng.choice(WORDS), rng.randrange(10 ** 6), rng.choice(WORDS), rng.choice(WORDS))
                 for _ in range(30000))
pairs = re.findall(r"(\w+)=(\d+)", text)
mails = re.findall(r"(\w+)@(\w+)\.org", text)
subst = re.sub(r"\d+", lambda m: str(len(m.group())), text)
print("regex", len(pairs), len(mails), hashlib.sha256(subst.encode()).hexdigest()[:16])

# sorting with keys, Counter, defaultdict, sets
nums = [rng.randrange(10 ** 9) for _ in range(200000)]
nums.sort()
by_word = defaultdict(list)
for w, n in pairs:
    by_word[w].append(int(n))
ranked = sorted(by_word.items(), key=lambda kv: (-len(kv[1]), kv[0]))
c = Counter(w for w, _ in mails)
s = set(nums[::7]) ^ set(nums[::11])
print("sort", nums[0], nums[-1], nums[len(nums) // 2], [(w, len(v)) for w, v in ranked[:3]], c.most_common(2), len(s))


class Node:
    __slots__ = ("val", "kids")

    def __init__(self, val):
        self.val = val
        self.kids = []


def build(depth, val):
    n = Node(val)
    if depth:
        n.kids = [build(depth - 1, val * 3 + k) for k in range(3)]
    return n


def total(n):
    return n.val + sum(total(k) for k in n.kids)


trees = [build(7, i) for i in range(10)]
print("tree", sum(total(t) for t in trees))
del trees

gen = (x * x for x in range(300000) if x % 3)
print("gen", sum(gen) % 1000003)
print("bytes", len(b"".join(bytes([i % 256]) * (i % 50) for i in range(20000))))
sys.stdout.flush()
