/* tests/package/aot_consumer/dense_am_main.c - runs the AOT kernel of dense_am.json compiled
 * with `--kernels library` (its two 100x784x900-class contractions call hamux::kernels, the
 * stored patterns packed once per call): Euler steps lower the energy of a random state,
 * and the energy is finite. Exit status 0 when both hold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dense_am.h"
#include "hamux_aot.h"

int main(void) {
  const int64_t batch = 3;
  dense_am_args a = {0};
  for (int i = 0; i < DENSE_AM_NUM_NEURONS; ++i) {
    a.x[i] = (dense_am_real*)calloc((size_t)(batch * DENSE_AM_NEURON_SIZE(i)), sizeof(dense_am_real));
    a.xhat[i] = (dense_am_real*)calloc((size_t)(batch * DENSE_AM_NEURON_SIZE(i)), sizeof(dense_am_real));
    for (int64_t e = 0; e < batch * DENSE_AM_NEURON_SIZE(i); ++e) a.x[i][e] = (dense_am_real)sin(0.61 * (double)e + i);
  }
  a.energy = (dense_am_real*)calloc((size_t)batch, sizeof(dense_am_real));
  a.workspace = hamux_aot_alloc(dense_am_workspace_bytes(batch));
  dense_am_energy(&a, batch);
  const double before = a.energy[0];
  dense_am_steps(&a, batch, 0.1, 20);
  printf("energy %.6f -> %.6f after 20 steps\n", before, (double)a.energy[0]);
  const int failures = !(isfinite(before) && a.energy[0] < before);
  for (int i = 0; i < DENSE_AM_NUM_NEURONS; ++i) {
    free(a.x[i]);
    free(a.xhat[i]);
  }
  free(a.energy);
  hamux_aot_free(a.workspace);
  return failures;
}
