/* tests/aot/driver.c - runs any AOT kernel compiled with --prefix m, for the tests.
 *
 *   driver IN OUT BATCH STEPS DT [PARAMS_DIR]
 *
 * IN holds, as raw reals of the model's dtype, x[i] ([BATCH, size_i]) for every neuron,
 * then mask[i] ([size_i]) for every neuron. OUT receives x[i], xhat[i] for every neuron,
 * then the energies ([BATCH]) after STEPS Euler steps of size DT. PARAMS_DIR is where
 * the .npy params are when the kernel was compiled with --params files. Exit status 3: the
 * kernel's wrappers did not give the caller's floating-point control word back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m.h"

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: driver IN OUT BATCH STEPS DT [PARAMS_DIR]\n");
    return 2;
  }
  const int64_t batch = atoll(argv[3]), steps = atoll(argv[4]);
  const double dt = atof(argv[5]);
  FILE* in = fopen(argv[1], "rb");
  if (!in) return 1;
  m_args a;
  memset(&a, 0, sizeof a);
  for (int i = 0; i < M_NUM_NEURONS; ++i) {
    size_t n = (size_t)(batch * M_NEURON_SIZE(i));
    a.x[i] = (m_real*)malloc(n * sizeof(m_real));
    a.xhat[i] = (m_real*)malloc(n * sizeof(m_real));
    if (fread(a.x[i], sizeof(m_real), n, in) != n) return 1;
  }
  for (int i = 0; i < M_NUM_NEURONS; ++i) {
    size_t n = (size_t)M_NEURON_SIZE(i);
    m_real* mask = (m_real*)malloc(n * sizeof(m_real));
    if (fread(mask, sizeof(m_real), n, in) != n) return 1;
    a.mask[i] = mask;
  }
  fclose(in);
  a.energy = (m_real*)malloc((size_t)batch * sizeof(m_real));
  a.workspace = hamux_aot_alloc(m_workspace_bytes(batch));
#if !M_PARAMS_EMBEDDED
  if (argc < 7 || m_load_params(argv[6], a.params) != 0) return 1;
#endif
#if defined(__x86_64__) || defined(__SSE__)
  {
    const unsigned before = _mm_getcsr();
    m_steps(&a, batch, dt, steps);
    if (_mm_getcsr() != before) return 3;
  }
#else
  m_steps(&a, batch, dt, steps);
#endif
  FILE* out = fopen(argv[2], "wb");
  if (!out) return 1;
  for (int i = 0; i < M_NUM_NEURONS; ++i) {
    size_t n = (size_t)(batch * M_NEURON_SIZE(i));
    fwrite(a.x[i], sizeof(m_real), n, out);
    fwrite(a.xhat[i], sizeof(m_real), n, out);
  }
  fwrite(a.energy, sizeof(m_real), (size_t)batch, out);
  /* Everything released (a sanitizer build links this with LeakSanitizer). */
  for (int i = 0; i < M_NUM_NEURONS; ++i) {
    free(a.x[i]);
    free(a.xhat[i]);
    free((void*)a.mask[i]);
  }
  free(a.energy);
  hamux_aot_free(a.workspace);
#if !M_PARAMS_EMBEDDED
  m_free_params(a.params);
#endif
  return fclose(out) == 0 ? 0 : 1;
}
