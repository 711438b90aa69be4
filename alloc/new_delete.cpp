// new_delete.cpp — the C++ operator new/delete family (plain, array, sized, aligned, nothrow),
// routed to the same allocation routine as malloc. Failure follows the standard: call the
// installed new_handler and retry, else throw std::bad_alloc (nothrow forms return nullptr).
//
// The library does not link libstdc++: a C program preloading memscope should not get the C++
// runtime (and its 72 KiB emergency exception pool) loaded into it. The two libstdc++ functions
// needed on the failure path are looked up at run time — a program that calls operator new has
// libstdc++ loaded already. Built with -fno-exceptions: we never catch, only let std::bad_alloc
// pass through (unwind tables are still emitted).
#include <dlfcn.h>
#include <cstddef>
#include <cstdlib>
#include <new>

#include "entry.h"

#include "visibility.h"   /* MS_EXPORT */

namespace {

typedef std::new_handler (*get_handler_fn)();
typedef void (*throw_fn)();

std::new_handler current_handler() {
  static get_handler_fn get;
  if (!get) get = reinterpret_cast<get_handler_fn>(dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv"));
  return get ? get() : nullptr;
}

[[noreturn]] void throw_bad_alloc() {
  throw_fn f = reinterpret_cast<throw_fn>(dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv"));
  if (f) f();
  std::abort(); // no C++ runtime: nobody could catch it anyway
}

void *alloc_or_throw(std::size_t n, std::size_t align) {
  for (;;) {
    void *p = _ms_alloc(n, align, 0);
    if (p) return p;
    std::new_handler h = current_handler();
    if (!h) throw_bad_alloc();
    h();
  }
}

void *alloc_nothrow(std::size_t n, std::size_t align) noexcept {
  for (;;) {
    void *p = _ms_alloc(n, align, 0);
    if (p) return p;
    std::new_handler h = current_handler();
    if (!h) return nullptr;
    h(); // a handler that throws here terminates, as with any noexcept allocation function
  }
}

inline void release(void *p) { _ms_free(p, __builtin_return_address(0)); }

}  // namespace

MS_EXPORT void *operator new(std::size_t n) { return alloc_or_throw(n, 0); }
MS_EXPORT void *operator new[](std::size_t n) { return alloc_or_throw(n, 0); }
MS_EXPORT void *operator new(std::size_t n, const std::nothrow_t &) noexcept {
  return alloc_nothrow(n, 0);
}
MS_EXPORT void *operator new[](std::size_t n, const std::nothrow_t &) noexcept {
  return alloc_nothrow(n, 0);
}
MS_EXPORT void *operator new(std::size_t n, std::align_val_t a) {
  return alloc_or_throw(n, static_cast<std::size_t>(a));
}
MS_EXPORT void *operator new[](std::size_t n, std::align_val_t a) {
  return alloc_or_throw(n, static_cast<std::size_t>(a));
}
MS_EXPORT void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return alloc_nothrow(n, static_cast<std::size_t>(a));
}
MS_EXPORT void *operator new[](std::size_t n, std::align_val_t a,
                               const std::nothrow_t &) noexcept {
  return alloc_nothrow(n, static_cast<std::size_t>(a));
}

MS_EXPORT void operator delete(void *p) noexcept { release(p); }
MS_EXPORT void operator delete[](void *p) noexcept { release(p); }
MS_EXPORT void operator delete(void *p, std::size_t) noexcept { release(p); }
MS_EXPORT void operator delete[](void *p, std::size_t) noexcept { release(p); }
MS_EXPORT void operator delete(void *p, const std::nothrow_t &) noexcept { release(p); }
MS_EXPORT void operator delete[](void *p, const std::nothrow_t &) noexcept { release(p); }
MS_EXPORT void operator delete(void *p, std::align_val_t) noexcept { release(p); }
MS_EXPORT void operator delete[](void *p, std::align_val_t) noexcept { release(p); }
MS_EXPORT void operator delete(void *p, std::size_t, std::align_val_t) noexcept { release(p); }
MS_EXPORT void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { release(p); }
MS_EXPORT void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  release(p);
}
MS_EXPORT void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  release(p);
}
