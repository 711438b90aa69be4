/* visibility.h — MS_EXPORT, the one definition. The library is built with hidden visibility
 * (CMakeLists.txt), so only what is marked MS_EXPORT — the ms_* API of include/memscope.h, the
 * malloc family and the C++ operators — is visible to programs.
 * Included by each library file that defines an exported function. */
#ifndef MEMSCOPE_VISIBILITY_H
#define MEMSCOPE_VISIBILITY_H

#define MS_EXPORT __attribute__((visibility("default")))

#endif /* MEMSCOPE_VISIBILITY_H */
