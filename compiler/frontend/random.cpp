// compiler/frontend/random.cpp - xoshiro256** (Blackman & Vigna) with splitmix64 seeding.
#include "frontend/random.h"

#include <cmath>

namespace hamux::frontend {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// FNV-1a: a fixed, portable hash of the stream name (std::hash is not portable).
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace

Rng::Rng(uint64_t seed, const std::string& stream_name) {
  uint64_t state = seed;
  uint64_t mixed = splitmix64(state) ^ fnv1a(stream_name);
  for (uint64_t& w : s_) w = splitmix64(mixed);
}

uint64_t Rng::next_u64() {
  uint64_t result = rotl(s_[1] * 5, 7) * 9;
  uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  if (have_spare_) {
    have_spare_ = false;
    return spare_;
  }
  double u1 = 1.0 - uniform();  // (0, 1]: log(u1) is finite
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  have_spare_ = true;
  return r * std::cos(theta);
}

Tensor<double> normal_state(uint64_t seed, const std::string& neuron, const Shape& shape, int64_t batch,
                            double std) {
  Rng rng(seed, "state:" + neuron);
  Shape batched{batch};
  batched.insert(batched.end(), shape.begin(), shape.end());
  Tensor<double> t(batched);
  for (double& v : t.data) v = std * rng.normal();
  return t;
}

}  // namespace hamux::frontend
