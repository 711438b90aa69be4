// cxx_new_delete.cpp — C++ allocation on memscope (built linked with -lmemscope, and unlinked to
// run under LD_PRELOAD; see test/integration.cmake).
//
// Covers every operator new/delete form a C++ program reaches: plain, array, sized delete,
// aligned new for over-aligned types (alignas(64) and alignas(4096)) and the explicit
// std::align_val_t forms, nothrow new (including a request that must fail with nullptr), the
// throwing form's std::bad_alloc, containers (vector, string, map, unordered_map), std::thread
// with objects freed on another thread than the one that made them, and exceptions (which
// allocate their own objects). The program checks its own results — contents, alignment,
// constructor/destructor counts — and, when memscope is loaded, that ms_stats() live bytes and
// live blocks return to the baseline taken after a warm-up pass.
// Usage: cxx_new_delete [--require-stats]
#include <atomic>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "memscope.h"

static int failures = 0;
#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "cxx_new_delete: FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                            \
    }                                                                        \
  } while (0)

static std::atomic<long> live_objects{0};

struct Tracked {
  int v;
  char pad[20];
  Tracked() : v(42) { live_objects++; std::memset(pad, 'p', sizeof pad); }
  ~Tracked() { CHECK(v == 42 && pad[19] == 'p'); v = -1; live_objects--; }
};

struct alignas(64) Line {
  unsigned char bytes[64];
  Line() { std::memset(bytes, 0x5a, sizeof bytes); }
};

struct alignas(4096) Page {
  unsigned char bytes[4096];
  Page() { bytes[0] = 1; bytes[4095] = 2; }
};

static bool aligned(const void *p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

static void plain_and_array() {
  for (int round = 0; round < 200; round++) {
    int *i = new int(round);
    CHECK(*i == round);
    delete i;
    Tracked *t = new Tracked;
    delete t;
    Tracked *ta = new Tracked[17 + round % 50];
    CHECK(ta[16].v == 42);
    delete[] ta;
    char *c = new char[1 + round * 37];
    std::memset(c, 'x', 1 + round * 37);
    if (1 + round * 37 >= 16) CHECK(aligned(c, alignof(std::max_align_t)));
    delete[] c;
  }
  CHECK(live_objects == 0);
}

static void sized_delete() {
  for (std::size_t n = 1; n < 5000; n = n * 3 + 1) {
    void *p = ::operator new(n);
    std::memset(p, 1, n);
    ::operator delete(p, n);
    void *q = ::operator new[](n);
    ::operator delete[](q, n);
  }
}

static void aligned_new() {
  for (int k = 0; k < 50; k++) {
    Line *l = new Line;
    CHECK(aligned(l, 64) && l->bytes[63] == 0x5a);
    delete l;
    Line *la = new Line[1 + k];
    CHECK(aligned(la, 64) && la[k].bytes[0] == 0x5a);
    delete[] la;
    Page *pg = new Page;
    CHECK(aligned(pg, 4096) && pg->bytes[4095] == 2);
    delete pg;
    Page *pa = new Page[2];
    CHECK(aligned(pa, 4096) && aligned(&pa[1], 4096));
    delete[] pa;
  }
  for (std::size_t a = 16; a <= (1u << 20); a <<= 1) {
    std::size_t n = a * 3 / 2 + 1;
    void *p = ::operator new(n, std::align_val_t(a));
    CHECK(aligned(p, a));
    std::memset(p, 7, n);
    ::operator delete(p, n, std::align_val_t(a));
    void *q = ::operator new[](a, std::align_val_t(a));
    CHECK(aligned(q, a));
    ::operator delete[](q, std::align_val_t(a));
    void *r = ::operator new(n, std::align_val_t(a), std::nothrow);
    CHECK(r && aligned(r, a));
    ::operator delete(r, std::align_val_t(a), std::nothrow);
  }
  std::vector<Line> v(100); // allocator of an over-aligned type uses aligned new
  CHECK(aligned(v.data(), 64));
}

static void nothrow_and_bad_alloc() {
  char *p = new (std::nothrow) char[1 << 20];
  CHECK(p != nullptr);
  if (p) { p[0] = p[(1 << 20) - 1] = 1; }
  delete[] p;
  const std::size_t huge = SIZE_MAX / 4;
  void *q = ::operator new(huge, std::nothrow);
  CHECK(q == nullptr);
  void *qa = ::operator new[](huge, std::align_val_t(64), std::nothrow);
  CHECK(qa == nullptr);
  bool threw = false;
  try {
    void *r = ::operator new(huge);
    ::operator delete(r);
  } catch (const std::bad_alloc &) {
    threw = true;
  }
  CHECK(threw);
}

static void containers() {
  std::map<std::string, std::vector<int>> m;
  std::unordered_map<int, std::string> u;
  for (int i = 0; i < 20000; i++) {
    std::string k = "key-" + std::to_string(i * 7919 % 20011);
    m[k].push_back(i);
    u.emplace(i, std::string(static_cast<std::size_t>(i % 100), static_cast<char>('a' + i % 26)));
  }
  long sum = 0;
  for (auto &kv : m) sum += kv.second.front();
  CHECK(m.size() == 20000 && sum == 20000L * 19999 / 2);
  for (int i = 0; i < 20000; i += 2) u.erase(i);
  CHECK(u.size() == 10000 && u.at(99).size() == 99 && u.at(99)[0] == 'a' + 99 % 26);
  std::string s;
  for (int i = 0; i < 100000; i++) s += static_cast<char>('A' + i % 26);
  CHECK(s.size() == 100000 && s[99999] == 'A' + 99999 % 26);
  std::vector<std::unique_ptr<Tracked>> owners;
  for (int i = 0; i < 1000; i++) owners.push_back(std::make_unique<Tracked>());
  owners.erase(owners.begin(), owners.begin() + 500);
  CHECK(live_objects == 500);
  owners.clear();
  CHECK(live_objects == 0);
}

// Threads build objects and hand them to the main thread, which destroys them: cross-thread
// deletes of plain, array and over-aligned objects.
static void threads() {
  std::mutex mu;
  std::vector<std::unique_ptr<std::string>> strings;
  std::vector<Line *> lines;
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; t++) {
    pool.emplace_back([t, &mu, &strings, &lines] {
      std::map<int, std::string> local;
      for (int i = 0; i < 3000; i++) local[i] = std::to_string(i * t);
      for (int i = 0; i < 300; i++) {
        auto s = std::make_unique<std::string>(200, static_cast<char>('a' + t));
        Line *l = new Line;
        std::lock_guard<std::mutex> g(mu);
        strings.push_back(std::move(s));
        lines.push_back(l);
      }
    });
  }
  for (auto &th : pool) th.join();
  CHECK(strings.size() == 2400 && lines.size() == 2400);
  for (auto *l : lines) {
    CHECK(aligned(l, 64) && l->bytes[0] == 0x5a);
    delete l;
  }
  for (auto &s : strings) CHECK(s->size() == 200);
  strings.clear();
}

static void exceptions() {
  int caught = 0;
  for (int i = 0; i < 2000; i++) {
    try {
      if (i % 2) throw std::runtime_error("error number " + std::to_string(i) + std::string(100, 'e'));
      throw std::vector<int>(static_cast<std::size_t>(i % 64), i);
    } catch (const std::runtime_error &e) {
      caught += std::strncmp(e.what(), "error number", 12) == 0;
    } catch (const std::vector<int> &v) {
      caught += v.size() == static_cast<std::size_t>(i % 64);
    }
  }
  CHECK(caught == 2000);
}

static void all_once() {
  plain_and_array();
  sized_delete();
  aligned_new();
  nothrow_and_bad_alloc();
  containers();
  threads();
  exceptions();
}

int main(int argc, char **argv) {
  bool require = argc > 1 && std::strcmp(argv[1], "--require-stats") == 0;
  std::printf("cxx_new_delete: memscope %s\n", ms_stats ? "loaded" : "NOT loaded");
  if (require && !ms_stats) {
    std::printf("FAIL: ms_stats() is not available\n");
    return 1;
  }
  all_once(); // warm-up: iostream/locale, the exception pool, thread stacks exist from here on
  ms_stats_t base{}, mid{}, end{};
  if (ms_stats) ms_stats(&base);
  int *probe = new int[1000];
  if (ms_stats) {
    ms_stats(&mid); // operator new must reach memscope's counters, linked or preloaded
    CHECK(mid.total_allocations > base.total_allocations);
    CHECK(mid.live_bytes >= base.live_bytes + 4000);
  }
  delete[] probe;
  for (int i = 0; i < 3; i++) all_once();
  if (ms_stats) {
    ms_stats(&end);
    long long db = (long long)end.live_bytes - (long long)base.live_bytes;
    long long dn = (long long)end.live_allocations - (long long)base.live_allocations;
    std::printf("live bytes %" PRIu64 " -> %" PRIu64 " (%+lld), live blocks %" PRIu64 " -> %" PRIu64
                " (%+lld), allocations +%" PRIu64 "\n", base.live_bytes, end.live_bytes, db,
                base.live_allocations, end.live_allocations, dn,
                end.total_allocations - base.total_allocations);
    // "near": glibc may keep a few per-thread blocks with cached thread stacks
    CHECK(db >= -4096 && db <= 4096);
    CHECK(dn >= -16 && dn <= 16);
  }
  std::printf("%s\n", failures ? "FAIL" : "PASS");
  return failures ? 1 : 0;
}
