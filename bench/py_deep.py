"""py_deep.py - a Python workload with deep recursion and many distinct stacks, for bench/exact.sh.

Run with PYTHONMALLOC=malloc. Each round parses generated source into an AST (the parser and
the compiler recurse), walks it with a recursive visitor, compiles it, and round-trips nested
JSON through a recursive builder: allocations happen at many different interpreter depths, so
stacks are deep and varied (the opposite of bench/py_alloc.py's flat loops). Deterministic;
prints a checksum.
"""
import ast
import json
import random
import sys

rng = random.Random(4242)
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4


def gen_expr(depth):
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(["x", "y", str(rng.randrange(100)), "'s%d'" % rng.randrange(50)])
    op = rng.choice(["+", "-", "*"])
    return "(%s %s %s)" % (gen_expr(depth - 1), op, gen_expr(depth - 1))


def gen_func(i, depth):
    body = "\n".join("    v%d = %s" % (k, gen_expr(depth)) for k in range(6))
    return "def f%d(x, y):\n%s\n    return v0\n" % (i, body)


class Counter(ast.NodeVisitor):
    def __init__(self):
        self.n = 0

    def generic_visit(self, node):
        self.n += 1
        super().generic_visit(node)


def nest(depth):
    if depth == 0:
        return {"leaf": rng.randrange(1000), "s": "v" * rng.randrange(1, 20)}
    return {"d": depth, "kids": [nest(depth - 1) for _ in range(2)]}


def depth_of(o):
    if isinstance(o, dict):
        return 1 + max((depth_of(v) for v in o.values()), default=0)
    if isinstance(o, list):
        return 1 + max((depth_of(v) for v in o), default=0)
    return 0


checksum = 0
for r in range(rounds):
    src = "\n".join(gen_func(i, 6) for i in range(40))
    tree = ast.parse(src)
    c = Counter()
    c.visit(tree)
    code = compile(tree, "<gen>", "exec")
    checksum += c.n + len(code.co_consts)
    for _ in range(4):
        doc = nest(11)
        back = json.loads(json.dumps(doc))
        checksum += depth_of(back)
    checksum %= 1 << 61

print("rounds=%d checksum=%d" % (rounds, checksum))
