/* Baseline for bench/mc_throughput.py: a plain scalar checkerboard Metropolis
 * for the 2D Ising model on an L x L torus, the way it is usually written in C:
 * signed char spins, neighbour indices with wrap-around, xoshiro256** uniform
 * doubles, an exp table for dE > 0.
 *
 *   cc -O3 -march=native -o ising_checkerboard ising_checkerboard.c -lm
 *   ./ising_checkerboard L SWEEPS T   -> prints "flips_per_second energy_per_spin"
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static uint64_t s[4] = {0x9E3779B97F4A7C15ULL, 0xBF58476D1CE4E5B9ULL, 0x94D049BB133111EBULL, 0x2545F4914F6CDD1DULL};

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next(void) {
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return result;
}

static inline double uniform(void) { return (next() >> 11) * 0x1.0p-53; }

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s L SWEEPS T\n", argv[0]); return 2; }
    int L = atoi(argv[1]), sweeps = atoi(argv[2]);
    double beta = 1.0 / atof(argv[3]), prob[3] = {1, exp(-4 * beta), exp(-8 * beta)};
    signed char *spin = malloc((size_t)L * L);
    for (long i = 0; i < (long)L * L; i++) spin[i] = (next() >> 63) ? 1 : -1;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int sweep = 0; sweep < sweeps; sweep++)
        for (int colour = 0; colour < 2; colour++)
            for (int i = 0; i < L; i++) {
                int up = (i + L - 1) % L, down = (i + 1) % L;
                for (int j = (i + colour) & 1; j < L; j += 2) {
                    int left = (j + L - 1) % L, right = (j + 1) % L;
                    int x = spin[i * L + j] * (spin[up * L + j] + spin[down * L + j] + spin[i * L + left] + spin[i * L + right]);
                    if (x <= 0 || uniform() < prob[x >> 1]) spin[i * L + j] = -spin[i * L + j];
                }
            }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double seconds = (b.tv_sec - a.tv_sec) + 1e-9 * (b.tv_nsec - a.tv_nsec);
    long bonds = 0;
    for (int i = 0; i < L; i++)
        for (int j = 0; j < L; j++)
            bonds += spin[i * L + j] * (spin[((i + 1) % L) * L + j] + spin[i * L + (j + 1) % L]);
    printf("%.6e %.6f\n", (double)L * L * sweeps / seconds, -(double)bonds / ((double)L * L));
    free(spin);
    return 0;
}
