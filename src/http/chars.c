/* The byte-class and lower-case tables of chars.h, computed once at compile time from
 * the RFC 9110 grammar rather than typed in as 256 magic numbers. */
#include <stddef.h>

#include "http/chars.h"

#define TC ACIO_HC_TCHAR
#define FV (ACIO_HC_FIELD | ACIO_HC_REASON)
#define TG ACIO_HC_TARGET
/* A visible ASCII byte that is a token character, and one that is not. */
#define VT (TC | FV | TG)
#define VN (FV | TG)

const uint8_t acio__http_chars[256] = {
    ['\t'] = FV,
    [' '] = FV,
    ['!'] = VT,
    ['"'] = VN,
    ['#'] = VT,
    ['$'] = VT,
    ['%'] = VT,
    ['&'] = VT,
    ['\''] = VT,
    ['('] = VN,
    [')'] = VN,
    ['*'] = VT,
    ['+'] = VT,
    [','] = VN,
    ['-'] = VT,
    ['.'] = VT,
    ['/'] = VN,
    ['0'] = VT,
    ['1'] = VT,
    ['2'] = VT,
    ['3'] = VT,
    ['4'] = VT,
    ['5'] = VT,
    ['6'] = VT,
    ['7'] = VT,
    ['8'] = VT,
    ['9'] = VT,
    [':'] = VN,
    [';'] = VN,
    ['<'] = VN,
    ['='] = VN,
    ['>'] = VN,
    ['?'] = VN,
    ['@'] = VN,
    ['A'] = VT,
    ['B'] = VT,
    ['C'] = VT,
    ['D'] = VT,
    ['E'] = VT,
    ['F'] = VT,
    ['G'] = VT,
    ['H'] = VT,
    ['I'] = VT,
    ['J'] = VT,
    ['K'] = VT,
    ['L'] = VT,
    ['M'] = VT,
    ['N'] = VT,
    ['O'] = VT,
    ['P'] = VT,
    ['Q'] = VT,
    ['R'] = VT,
    ['S'] = VT,
    ['T'] = VT,
    ['U'] = VT,
    ['V'] = VT,
    ['W'] = VT,
    ['X'] = VT,
    ['Y'] = VT,
    ['Z'] = VT,
    ['['] = VN,
    ['\\'] = VN,
    [']'] = VN,
    ['^'] = VT,
    ['_'] = VT,
    ['`'] = VT,
    ['a'] = VT,
    ['b'] = VT,
    ['c'] = VT,
    ['d'] = VT,
    ['e'] = VT,
    ['f'] = VT,
    ['g'] = VT,
    ['h'] = VT,
    ['i'] = VT,
    ['j'] = VT,
    ['k'] = VT,
    ['l'] = VT,
    ['m'] = VT,
    ['n'] = VT,
    ['o'] = VT,
    ['p'] = VT,
    ['q'] = VT,
    ['r'] = VT,
    ['s'] = VT,
    ['t'] = VT,
    ['u'] = VT,
    ['v'] = VT,
    ['w'] = VT,
    ['x'] = VT,
    ['y'] = VT,
    ['z'] = VT,
    ['{'] = VN,
    ['|'] = VT,
    ['}'] = VN,
    ['~'] = VT,
    /* obs-text: allowed in field values and reason phrases, never in tokens or targets. */
    [0x80 ... 0xFF] = FV,
};

#define R4(i)  (i), (i) + 1, (i) + 2, (i) + 3
#define R16(i) R4(i), R4((i) + 4), R4((i) + 8), R4((i) + 12)
#define R64(i) R16(i), R16((i) + 16), R16((i) + 32), R16((i) + 48)
#define LO(c)  ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define L4(i)  LO(i), LO((i) + 1), LO((i) + 2), LO((i) + 3)
#define L16(i) L4(i), L4((i) + 4), L4((i) + 8), L4((i) + 12)
#define L64(i) L16(i), L16((i) + 16), L16((i) + 32), L16((i) + 48)

const uint8_t acio__http_lower[256] = {R64(0), L64(64), R64(128), R64(192)};

int acio__http_lower_eq(const char *a, size_t alen, const char *lower_b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (acio__http_lower[(unsigned char)a[i]] != (unsigned char)lower_b[i])
            return 0;
    return 1;
}

int acio__http_case_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (acio__http_lower[(unsigned char)a[i]] != acio__http_lower[(unsigned char)b[i]])
            return 0;
    return 1;
}
