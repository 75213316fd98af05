/* tests/aot/checked_driver.c - m_run_checked (the AOT checked run) from plain C99, for the tests.
 *
 *   checked_driver IN OUT BATCH STEPS DT STATE_BOUND GUARD ENERGY NAN_PARAM
 *
 * IN holds x[i] ([BATCH, size_i], raw reals of the model's dtype) for every neuron. The run
 * has no masks and the embedded params, except that NAN_PARAM >= 0 runs on a copy of that
 * param whose first element is NaN. GUARD: the energy guard on; ENERGY: a->energy given.
 * OUT receives x[i] for every neuron, then the energies ([BATCH]; with ENERGY). Prints
 *   rc R / steps S / dt D / guard G / event STEP SAMPLE BEFORE AFTER NEW_DT (G lines) / message M
 * and exits 0 when the driver itself worked (whatever m_run_checked returned). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m.h"

int main(int argc, char** argv) {
  int64_t batch, steps;
  double dt;
  hamux_aot_check_options o = hamux_aot_check_defaults();
  hamux_aot_run_result r;
  m_args a;
  char message[2048];
  int nan_param, rc, i;
  FILE *in, *out;
  if (argc != 10) {
    fprintf(stderr, "usage: checked_driver IN OUT BATCH STEPS DT STATE_BOUND GUARD ENERGY NAN_PARAM\n");
    return 2;
  }
  batch = atoll(argv[3]);
  steps = atoll(argv[4]);
  dt = atof(argv[5]);
  o.state_bound = atof(argv[6]);
  o.energy_guard = atoi(argv[7]);
  nan_param = atoi(argv[9]);
  memset(&a, 0, sizeof a);
  in = fopen(argv[1], "rb");
  if (!in) return 1;
  for (i = 0; i < M_NUM_NEURONS; ++i) {
    const size_t n = (size_t)(batch * M_NEURON_SIZE(i));
    a.x[i] = (m_real*)malloc(n * sizeof(m_real));
    a.xhat[i] = (m_real*)malloc(n * sizeof(m_real));
    if (fread(a.x[i], sizeof(m_real), n, in) != n) return 1;
  }
  fclose(in);
  if (atoi(argv[8])) a.energy = (m_real*)malloc((size_t)batch * sizeof(m_real));
  if (nan_param >= 0) {
    const size_t n = (size_t)M_PARAM_SIZE(nan_param);
    m_real* p = (m_real*)malloc(n * sizeof(m_real));
    memcpy(p, m_embedded_param[nan_param], n * sizeof(m_real));
    p[0] = (m_real)NAN;
    a.params[nan_param] = p;
  }
  a.workspace = hamux_aot_alloc(m_checked_workspace_bytes(batch));
  rc = m_run_checked(&a, batch, dt, steps, &o, &r, message, sizeof message);
  printf("rc %d\nsteps %lld\ndt %.17g\nguard %d\n", rc, (long long)r.steps, r.dt, r.num_guard);
  for (i = 0; i < r.num_guard; ++i)
    printf("event %lld %lld %.17g %.17g %.17g\n", (long long)r.guard[i].step, (long long)r.guard[i].sample,
           r.guard[i].energy_before, r.guard[i].energy_after, r.guard[i].new_dt);
  printf("message %s\n", message);
  out = fopen(argv[2], "wb");
  if (!out) return 1;
  for (i = 0; i < M_NUM_NEURONS; ++i) fwrite(a.x[i], sizeof(m_real), (size_t)(batch * M_NEURON_SIZE(i)), out);
  if (a.energy) fwrite(a.energy, sizeof(m_real), (size_t)batch, out);
  return fclose(out) == 0 ? 0 : 1;
}
