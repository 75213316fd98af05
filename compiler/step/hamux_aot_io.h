/* hamux_aot_io.h - memory and .npy file helpers of hamux's ahead-of-time kernels (C99).
 *
 * Part of hamux_aot.h, the model-independent header that `hamux compile` writes: its text
 * is embedded there verbatim (CMakeLists.txt, aot_io_h.inc), so that a program using an AOT
 * kernel needs nothing of hamux but the generated files. It lives here as a real file so
 * that it is compiled and tested (tests/step/aot_io_test.cpp, tests/aot/aot_c_test.cpp)
 * on the .npy files of hamux's own writer (frontend/npy.h), which a C program cannot call. */
#ifndef HAMUX_AOT_IO_H_
#define HAMUX_AOT_IO_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HAMUX_AOT_ROUND64(bytes) ((((int64_t)(bytes)) + 63) / 64 * 64)

/* Subnormal floats flushed to zero while a kernel runs, as the JIT's kernels run (XLA's
 * default too): a state that decays towards 0 would otherwise reach the subnormal range,
 * where every operation costs ~100 cycles. The generated <prefix>_run_slice calls the first
 * before its kernel calls and the second, with what the first returned, after them. x86
 * only (the SSE control word: flush-to-zero and denormals-are-zero); elsewhere, or with
 * HAMUX_AOT_KEEP_SUBNORMALS defined before the header, the floating-point environment is
 * left as the caller set it. */
#if (defined(__x86_64__) || defined(__SSE__)) && !defined(HAMUX_AOT_KEEP_SUBNORMALS)
#include <xmmintrin.h>
static inline unsigned hamux_aot_flush_subnormals(void) {
  const unsigned saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8040u);
  return saved;
}
static inline void hamux_aot_restore_fp(unsigned saved) { _mm_setcsr(saved); }
#else
static inline unsigned hamux_aot_flush_subnormals(void) { return 0; }
static inline void hamux_aot_restore_fp(unsigned saved) { (void)saved; }
#endif

/* `bytes` of 64-byte aligned memory, or NULL; release with hamux_aot_free. Portable C:
 * over-allocates with malloc and keeps the original pointer just below the aligned one. */
static inline void* hamux_aot_alloc(size_t bytes) {
  char* raw = (char*)malloc(bytes + 64 + sizeof(void*));
  char* p;
  if (!raw) return NULL;
  p = raw + sizeof(void*);
  p += (64 - (size_t)((uintptr_t)p % 64)) % 64;
  memcpy(p - sizeof(void*), &raw, sizeof raw);
  return p;
}
static inline void hamux_aot_free(void* p) {
  char* raw;
  if (!p) return;
  memcpy(&raw, (char*)p - sizeof(void*), sizeof raw);
  free(raw);
}

/* Reads dir/name, a .npy file (version 1-3, C order) whose dtype is `descr` ("<f4"/"<f8")
 * and that holds exactly `count` elements, into hamux_aot_alloc'd memory. Returns NULL
 * (and says why on stderr) on any mismatch. */
static inline void* hamux_aot_read_npy(const char* dir, const char* name, const char* descr, int64_t count) {
  char path[4096];
  unsigned char pre[12];
  char header[4096];
  void* data = NULL;
  size_t hlen, elem = descr[2] == '4' ? 4 : 8;
  FILE* f;
  int64_t n = 1;
  const char* s;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "hamux_aot: cannot open %s\n", path);
    return NULL;
  }
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) goto bad;
  if (pre[6] == 1) {
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
  } else {
    if (fread(pre + 10, 1, 2, f) != 2) goto bad;
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
  }
  if (hlen >= sizeof header || fread(header, 1, hlen, f) != hlen) goto bad;
  header[hlen] = 0;
  if (!strstr(header, descr) || !strstr(header, "'fortran_order': False")) goto bad;
  s = strstr(header, "'shape': (");
  if (!s) goto bad;
  for (s += 10; *s && *s != ')';) {
    if (*s >= '0' && *s <= '9') {
      n *= strtoll(s, (char**)&s, 10);
    } else {
      ++s;
    }
  }
  if (n != count) goto bad;
  data = hamux_aot_alloc((size_t)count * elem);
  if (!data || fread(data, elem, (size_t)count, f) != (size_t)count) {
    hamux_aot_free(data);
    goto bad;
  }
  fclose(f);
  return data;
bad:
  fprintf(stderr, "hamux_aot: %s is not a C-order %s .npy file of %lld elements\n", path, descr, (long long)count);
  fclose(f);
  return NULL;
}

#ifdef __cplusplus
}
#endif

#endif
