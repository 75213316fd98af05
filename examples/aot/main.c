/* examples/aot/main.c - a plain C program running two HAMs compiled ahead of time.
 *
 * readme.o / readme.h      `hamux compile readme.json --prefix readme` (params embedded)
 * dense_am.o / dense_am.h  `hamux compile dense_am.json --prefix dense_am --params files`
 *
 * Links with -lm alone: no LLVM, no Eigen, no hamux library. Each model starts from the
 * state x[b][e] = sin(0.37 (e + 1) + 1.3 b), runs explicit Euler steps and prints the
 * energy of every sample at a few steps, then relaxes a copy until the energy settles.
 * Then the checked run (<prefix>_run_checked: hamux::run's stops and energy guard): readme
 * from a state with a NaN stops with the runtime's message; dense_am at a dt too large for
 * plain steps takes guard events and still descends.
 *
 *   usage: hamux_aot_example PARAMS_DIR   (the directory holding dense_am_Xi.npy) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "dense_am.h"
#include "readme.h"

#define INIT(real, x, batch, size)                                            \
  for (int64_t b_ = 0; b_ < (batch); ++b_)                                    \
    for (int64_t e_ = 0; e_ < (size); ++e_)                                   \
      (x)[b_ * (size) + e_] = (real)sin(0.37 * (double)(e_ + 1) + 1.3 * (double)b_)

static void print_energies(const char* model, int64_t step, const void* energy, int is_float, int64_t batch) {
  for (int64_t b = 0; b < batch; ++b) {
    double e = is_float ? ((const float*)energy)[b] : ((const double*)energy)[b];
    printf("%s step %lld sample %lld energy %.9g\n", model, (long long)step, (long long)b, e);
  }
}

static int run_readme(void) {
  const int64_t batch = 1, checkpoints[] = {1, 9, 90, 900};
  const double dt = 0.1;
  readme_args a = {0};
  for (int i = 0; i < README_NUM_NEURONS; ++i) {
    a.x[i] = (readme_real*)malloc((size_t)(batch * README_NEURON_SIZE(i)) * sizeof(readme_real));
    a.xhat[i] = (readme_real*)malloc((size_t)(batch * README_NEURON_SIZE(i)) * sizeof(readme_real));
    INIT(readme_real, a.x[i], batch, README_NEURON_SIZE(i));
  }
  a.energy = (readme_real*)malloc((size_t)batch * sizeof(readme_real));
  a.workspace = hamux_aot_alloc(readme_workspace_bytes(batch));
  readme_energy(&a, batch);
  int64_t step = 0;
  print_energies("readme", step, a.energy, sizeof(readme_real) == 4, batch);
  for (int c = 0; c < 4; ++c) {
    readme_steps(&a, batch, dt, checkpoints[c]);
    step += checkpoints[c];
    print_energies("readme", step, a.energy, sizeof(readme_real) == 4, batch);
  }
  for (int i = 0; i < README_NUM_NEURONS; ++i) INIT(readme_real, a.x[i], batch, README_NEURON_SIZE(i));
  printf("readme relaxed in %lld steps\n", (long long)readme_relax(&a, batch, dt, 100000, 1e-6));
  /* A NaN in the state: the checked run refuses to step and says where it is. */
  for (int i = 0; i < README_NUM_NEURONS; ++i) INIT(readme_real, a.x[i], batch, README_NEURON_SIZE(i));
  a.x[0][0] = (readme_real)NAN;
  hamux_aot_free(a.workspace);
  a.workspace = hamux_aot_alloc(readme_checked_workspace_bytes(batch));
  char message[1024];
  const int rc = readme_run_checked(&a, batch, dt, 10, NULL, NULL, message, sizeof message);
  printf("readme checked: rc %d: %s\n", rc, message);
  for (int i = 0; i < README_NUM_NEURONS; ++i) {
    free(a.x[i]);
    free(a.xhat[i]);
  }
  free(a.energy);
  hamux_aot_free(a.workspace);
  return 0;
}

static int run_dense_am(const char* params_dir) {
  const int64_t batch = 2, checkpoints[] = {1, 9, 30};
  const double dt = 0.5;
  dense_am_args a = {0};
  if (dense_am_load_params(params_dir, a.params) != 0) return 1;
  for (int i = 0; i < DENSE_AM_NUM_NEURONS; ++i) {
    a.x[i] = (dense_am_real*)malloc((size_t)(batch * DENSE_AM_NEURON_SIZE(i)) * sizeof(dense_am_real));
    a.xhat[i] = (dense_am_real*)malloc((size_t)(batch * DENSE_AM_NEURON_SIZE(i)) * sizeof(dense_am_real));
    INIT(dense_am_real, a.x[i], batch, DENSE_AM_NEURON_SIZE(i));
  }
  a.energy = (dense_am_real*)malloc((size_t)batch * sizeof(dense_am_real));
  a.workspace = hamux_aot_alloc(dense_am_workspace_bytes(batch));
  dense_am_energy(&a, batch);
  int64_t step = 0;
  print_energies("dense_am", step, a.energy, sizeof(dense_am_real) == 4, batch);
  for (int c = 0; c < 3; ++c) {
    dense_am_steps(&a, batch, dt, checkpoints[c]);
    step += checkpoints[c];
    print_energies("dense_am", step, a.energy, sizeof(dense_am_real) == 4, batch);
  }
  /* dt 5 overshoots: with the energy guard each rise is undone and dt halved (as hamux::run). */
  for (int i = 0; i < DENSE_AM_NUM_NEURONS; ++i) INIT(dense_am_real, a.x[i], batch, DENSE_AM_NEURON_SIZE(i));
  hamux_aot_free(a.workspace);
  a.workspace = hamux_aot_alloc(dense_am_checked_workspace_bytes(batch));
  hamux_aot_check_options o = hamux_aot_check_defaults();
  o.energy_guard = 1;
  hamux_aot_run_result r;
  char message[1024];
  const int rc = dense_am_run_checked(&a, batch, 5.0, 40, &o, &r, message, sizeof message);
  printf("dense_am guarded: rc %d steps %lld dt %.17g guard events %d%s%s\n", rc, (long long)r.steps, r.dt,
         r.num_guard, rc ? ": " : "", message);
  for (int64_t b = 0; b < batch; ++b) printf("dense_am guarded sample %lld energy %.9g\n", (long long)b, (double)a.energy[b]);
  for (int i = 0; i < DENSE_AM_NUM_NEURONS; ++i) {
    free(a.x[i]);
    free(a.xhat[i]);
  }
  free(a.energy);
  hamux_aot_free(a.workspace);
  dense_am_free_params(a.params);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PARAMS_DIR\n", argv[0]);
    return 2;
  }
  if (run_readme() != 0) return 1;
  return run_dense_am(argv[1]);
}
