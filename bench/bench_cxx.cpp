// bench_cxx.cpp — a C++ workload heavy on std::map and std::string, for bench/exact.sh.
//
//   bench_cxx [rounds]
//
// Each round builds a word index: std::map<std::string, std::vector<std::string>> from generated
// words (every insert allocates a tree node and usually a string buffer longer than the
// small-string buffer), then queries it, copies part of it, and erases most of it. Allocations
// come from a few call paths of libstdc++ templates reached through several functions of this
// file, at moderate depth: the shape of real C++ services. Deterministic; prints a checksum.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

uint64_t rng_state = 0x9e3779b97f4a7c15ull;
uint64_t next_rand() {
  uint64_t x = rng_state;
  x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
  rng_state = x;
  return x * 2685821657736338717ull;
}

std::string make_word(size_t len) {
  std::string w;
  for (size_t i = 0; i < len; i++) w += static_cast<char>('a' + next_rand() % 26);
  return w;
}

using Index = std::map<std::string, std::vector<std::string>>;

void add_entries(Index &idx, int n) {
  for (int i = 0; i < n; i++) {
    std::string key = make_word(8 + next_rand() % 24);
    idx[key].push_back(make_word(16 + next_rand() % 48));
  }
}

uint64_t query(const Index &idx, int n) {
  uint64_t hits = 0;
  for (int i = 0; i < n; i++) {
    auto it = idx.lower_bound(make_word(3));
    if (it != idx.end()) hits += it->second.size() + it->first.size();
  }
  return hits;
}

Index copy_half(const Index &idx) {
  Index out;
  size_t k = 0;
  for (const auto &kv : idx)
    if (k++ % 2 == 0) out.emplace(kv.first + "-copy", kv.second);
  return out;
}

void erase_most(Index &idx) {
  size_t k = 0;
  for (auto it = idx.begin(); it != idx.end();)
    it = (k++ % 8 != 0) ? idx.erase(it) : std::next(it);
}

}  // namespace

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 6;
  uint64_t checksum = 0;
  Index idx;
  for (int r = 0; r < rounds; r++) {
    add_entries(idx, 60000);
    checksum += query(idx, 20000);
    Index half = copy_half(idx);
    checksum += half.size();
    erase_most(idx);
    checksum += idx.size();
  }
  printf("rounds=%d checksum=%llu\n", rounds, static_cast<unsigned long long>(checksum));
  return 0;
}
