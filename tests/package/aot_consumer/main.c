/* tests/package/aot_consumer/main.c - runs the AOT kernel of readme.json: the zero state's
 * energy has a closed form, and Euler steps lower the energy of a nonzero state. Exit
 * status 0 when both hold.
 *
 * At x = 0 the softmax layers (8 labels, 9 hidden) are uniform and contribute -log 8 and
 * -log 9; the identity input has xhat = 0, so only the labels-hidden synapse is nonzero:
 * -sum_ij W2_ij / (8 * 9) (W2: the embedded param). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "hamux_aot.h"
#include "readme.h"

int main(void) {
  const int64_t batch = 2;
  readme_args a = {0};
  for (int i = 0; i < README_NUM_NEURONS; ++i) {
    a.x[i] = (readme_real*)calloc((size_t)(batch * README_NEURON_SIZE(i)), sizeof(readme_real));
    a.xhat[i] = (readme_real*)calloc((size_t)(batch * README_NEURON_SIZE(i)), sizeof(readme_real));
  }
  a.energy = (readme_real*)calloc((size_t)batch, sizeof(readme_real));
  a.workspace = hamux_aot_alloc(readme_workspace_bytes(batch));
  readme_energy(&a, batch);
  double w2 = 0;
  for (int k = 0; k < 72; ++k) w2 += readme_param_W2[k];
  const double closed = -log(8.0) - log(9.0) - w2 / 72.0;
  int failures = 0;
  for (int64_t b = 0; b < batch; ++b) failures += fabs(a.energy[b] - closed) > 1e-5;
  printf("zero-state energy %.7f (closed form %.7f)\n", (double)a.energy[0], closed);
  for (int i = 0; i < README_NUM_NEURONS; ++i)
    for (int64_t e = 0; e < batch * README_NEURON_SIZE(i); ++e) a.x[i][e] = (readme_real)sin(0.37 * (double)(e + 1) + i);
  readme_energy(&a, batch);
  const double before = a.energy[0];
  readme_steps(&a, batch, 0.1, 50);
  printf("energy %.7f -> %.7f after 50 steps\n", before, (double)a.energy[0]);
  failures += !(a.energy[0] < before);
  for (int i = 0; i < README_NUM_NEURONS; ++i) {
    free(a.x[i]);
    free(a.xhat[i]);
  }
  free(a.energy);
  hamux_aot_free(a.workspace);
  return failures == 0 ? 0 : 1;
}
