/* Python's `random` module for the ports that print random numbers (rand.c, chained.c):
 * the same Mersenne Twister (MT19937), seeded the way random.seed(n) seeds it for a
 * small non-negative int n, and randint() drawing its numbers the way CPython does
 * (getrandbits of the bound's bit length, rejecting values out of range). So after
 * pyrandom_seed(666), pyrandom_randint(0, 10) returns the same sequence as
 * random.seed(666); random.randint(0, 10) in CPython 3, and the ports print what the
 * seeds' programs print. Header-only: each example that uses it is one program. */
#ifndef ACIO_EXAMPLES_PYRANDOM_H
#define ACIO_EXAMPLES_PYRANDOM_H

#include <stdint.h>

enum { PYRANDOM_N = 624, PYRANDOM_M = 397 };

static uint32_t pyrandom_mt[PYRANDOM_N];
static int pyrandom_mti = PYRANDOM_N + 1;

static void pyrandom_init_genrand(uint32_t s)
{
    pyrandom_mt[0] = s;
    for (int i = 1; i < PYRANDOM_N; i++)
        pyrandom_mt[i] =
            1812433253u * (pyrandom_mt[i - 1] ^ (pyrandom_mt[i - 1] >> 30)) + (uint32_t)i;
    pyrandom_mti = PYRANDOM_N;
}

/* random.seed(n) for 0 <= n < 2**32: CPython seeds with init_by_array() over the 32-bit
 * words of abs(n), here the single word n. */
static void pyrandom_seed(uint32_t n)
{
    const uint32_t key[1] = {n};
    const int key_length = 1;
    pyrandom_init_genrand(19650218u);
    int i = 1, j = 0;
    for (int k = PYRANDOM_N > key_length ? PYRANDOM_N : key_length; k; k--) {
        pyrandom_mt[i] =
            (pyrandom_mt[i] ^ ((pyrandom_mt[i - 1] ^ (pyrandom_mt[i - 1] >> 30)) * 1664525u)) +
            key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= PYRANDOM_N) {
            pyrandom_mt[0] = pyrandom_mt[PYRANDOM_N - 1];
            i = 1;
        }
        if (j >= key_length)
            j = 0;
    }
    for (int k = PYRANDOM_N - 1; k; k--) {
        pyrandom_mt[i] =
            (pyrandom_mt[i] ^ ((pyrandom_mt[i - 1] ^ (pyrandom_mt[i - 1] >> 30)) * 1566083941u)) -
            (uint32_t)i;
        i++;
        if (i >= PYRANDOM_N) {
            pyrandom_mt[0] = pyrandom_mt[PYRANDOM_N - 1];
            i = 1;
        }
    }
    pyrandom_mt[0] = 0x80000000u; /* the most significant bit is 1: a non-zero state */
}

static uint32_t pyrandom_genrand_uint32(void)
{
    static const uint32_t mag01[2] = {0x0u, 0x9908b0dfu};
    uint32_t y;
    if (pyrandom_mti >= PYRANDOM_N) {
        if (pyrandom_mti == PYRANDOM_N + 1)
            pyrandom_init_genrand(5489u);
        int kk;
        for (kk = 0; kk < PYRANDOM_N - PYRANDOM_M; kk++) {
            y = (pyrandom_mt[kk] & 0x80000000u) | (pyrandom_mt[kk + 1] & 0x7fffffffu);
            pyrandom_mt[kk] = pyrandom_mt[kk + PYRANDOM_M] ^ (y >> 1) ^ mag01[y & 0x1u];
        }
        for (; kk < PYRANDOM_N - 1; kk++) {
            y = (pyrandom_mt[kk] & 0x80000000u) | (pyrandom_mt[kk + 1] & 0x7fffffffu);
            pyrandom_mt[kk] =
                pyrandom_mt[kk + (PYRANDOM_M - PYRANDOM_N)] ^ (y >> 1) ^ mag01[y & 0x1u];
        }
        y = (pyrandom_mt[PYRANDOM_N - 1] & 0x80000000u) | (pyrandom_mt[0] & 0x7fffffffu);
        pyrandom_mt[PYRANDOM_N - 1] = pyrandom_mt[PYRANDOM_M - 1] ^ (y >> 1) ^ mag01[y & 0x1u];
        pyrandom_mti = 0;
    }
    y = pyrandom_mt[pyrandom_mti++];
    y ^= (y >> 11);
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= (y >> 18);
    return y;
}

/* random.randint(lo, hi) for hi - lo < 2**31: randrange(lo, hi + 1), which draws
 * getrandbits(k) (the top k bits of one 32-bit output), k the bit length of the range's
 * size, until the value is below the size. */
static int pyrandom_randint(int lo, int hi)
{
    uint32_t n = (uint32_t)(hi - lo) + 1u;
    int k = 0;
    while ((n >> k) != 0)
        k++;
    uint32_t r;
    do
        r = pyrandom_genrand_uint32() >> (32 - k);
    while (r >= n);
    return lo + (int)r;
}

#endif
