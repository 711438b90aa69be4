/* utf8.h — the one UTF-8 validator of the outputs. Every writer that copies strings from a dump
 * (file names, variable names, argv: untrusted bytes) into a text format — JSON here, XML in
 * the SVG charts — must copy only well-formed UTF-8 and replace the rest with U+FFFD. */
#ifndef MEMSCOPE_FORMATS_UTF8_H
#define MEMSCOPE_FORMATS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the well-formed UTF-8 sequence at s, of which n bytes may be read, and its
 * code point in *cp (cp may be NULL); 0 when the bytes there are not well-formed UTF-8
 * (overlong forms, surrogates, > U+10FFFF, a cut sequence). On a NUL-terminated string any n
 * is safe: a sequence is rejected at the first byte that is not a continuation byte. */
size_t ms_utf8_char(const unsigned char *s, size_t n, uint32_t *cp);

#endif /* MEMSCOPE_FORMATS_UTF8_H */
