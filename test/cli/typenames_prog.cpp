// typenames_prog.cpp — MS_TRACK in C++ (where the header names no type at compile time) on
// pointers to std::vector<int>, a struct in a namespace, a class template instance, a typedef
// and a std::map via auto. Built -g -O0, -g -O2 and without -g (test/cli/formats_test.py).
#include <map>
#include <string>
#include <vector>
#include "memscope.h"
namespace geo { struct point { int x, y; }; template <class T> struct box { T lo, hi; }; }
typedef geo::point pt;
int main() {
  std::vector<int> *v = new std::vector<int>(100);
  MS_TRACK(v);
  geo::point *p = new geo::point[10];
  MS_TRACK(p);
  geo::box<double> *b = new geo::box<double>;
  MS_TRACK(b);
  pt *t = new pt;
  MS_TRACK(t);
  auto *m = new std::map<std::string, int>;
  MS_TRACK(m);
  delete v; delete[] p; delete b; delete t; delete m;
  return 0;
}
