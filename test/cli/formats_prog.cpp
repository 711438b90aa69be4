// formats_prog.cpp — the program the format tests (test/cli/formats_test.py) run on memscope
// and convert to pprof, massif and folded stacks. Built -O2 -g, so the standard containers'
// code is inlined into the functions below (pprof shows those inline chains). Its heap is
// dominated by build_table(): a std::vector<long> grown to 1,000,000 elements, kept alive.
// It also fills a std::map and builds std::strings, makes 100 blocks through an always-inlined
// helper (an inline chain for pprof), allocates from a function template whose demangled
// name is over 1500 characters (folded output must not cut it), and leaks one block on purpose.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

static std::vector<long> *table;
static std::map<int, std::string> *names;

__attribute__((noinline)) void build_table() {
  table = new std::vector<long>;
  for (long i = 0; i < 1000000; i++) table->push_back(i);
}

__attribute__((noinline)) void fill_names() {
  names = new std::map<int, std::string>;
  for (int i = 0; i < 2000; i++) (*names)[i] = std::string(40 + i % 7, 'x');
}

// Results go through a volatile so the compiler cannot turn the call into a tail jump (which
// would drop these functions from the stacks).
static void *volatile sink;
__attribute__((noinline)) void *leak_block() {
  sink = malloc(4096);
  return sink;
}

void *nodes[100];   // global: the stores cannot be optimised away
static inline __attribute__((always_inline)) void *make_node(size_t n) { return malloc(n); }
__attribute__((noinline)) void build_nodes() {
  for (int i = 0; i < 100; i++) nodes[i] = make_node(1000);
}

struct a_type_with_a_rather_long_name_for_the_folded_name_test {};
template <class A, class B, class C> struct Tpl {};
using T1 = Tpl<a_type_with_a_rather_long_name_for_the_folded_name_test,
               a_type_with_a_rather_long_name_for_the_folded_name_test,
               a_type_with_a_rather_long_name_for_the_folded_name_test>;
using T2 = Tpl<T1, T1, T1>;
using T3 = Tpl<T2, T2, T2>;
template <class T> __attribute__((noinline)) void *alloc_for() {
  sink = malloc(sizeof(T) * 3000);
  return sink;
}
void *long_named;

int main() {
  long_named = alloc_for<T3>();
  build_table();
  fill_names();
  build_nodes();
  void *volatile p = leak_block();
  (void)p;
  long sum = 0;
  for (long v : *table) sum += v;
  return sum == 499999500000L ? 0 : 1;
}
