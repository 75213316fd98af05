// examples/retrieval/retrieval.cpp - associative memory at work: store pictures in a dense
// associative memory, corrupt them, let the dynamics descend the energy, and look.
//
// The model (retrieval.json) is one layer of 784 identity neurons (the image) and a
// hopfield synapse whose memories Xi are the stored pictures, one per column:
//   E(x) = 1/2 |x|^2 - 1/beta logsumexp(beta Xi^T x),   dx/dt = -x + Xi softmax(beta Xi^T x)
// Its fixed points sit at the stored pictures, so a corrupted picture flows to the
// memory it resembles most.
//
//   hamux_retrieval [--data DIR] [--out DIR] [--synthetic] [--steps N] [--dt X] [--threads T]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "hamux/hamux.h"
#include "hamux/io.h"
#include "images.h"

namespace {

using demo::Image;
using demo::kPixels;
using demo::kSide;

constexpr int kMemories = 64;
const std::vector<int> kQueries = {3, 17, 42, 58};

struct Args {
  std::string data = "/usr/share/datasets/fashion-mnist";
  std::string out = "retrieval-out";
  std::string model = HAMUX_RETRIEVAL_MODEL;
  bool synthetic = false;
  int64_t steps = 400;
  double dt = 0.1;
  int threads = 2;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw hamux::Error(arg, "needs a value");
      return argv[++i];
    };
    if (arg == "--data") a.data = value();
    else if (arg == "--out") a.out = value();
    else if (arg == "--model") a.model = value();
    else if (arg == "--synthetic") a.synthetic = true;
    else if (arg == "--steps") a.steps = std::stoll(value());
    else if (arg == "--dt") a.dt = std::stod(value());
    else if (arg == "--threads") a.threads = std::stoi(value());
    else throw hamux::Error(arg, "unknown option (see the comment at the top of retrieval.cpp)");
  }
  return a;
}

// Xi [784, M]: memory m is column m.
hamux::Tensor<double> memory_matrix(const std::vector<Image>& memories) {
  const int64_t m = static_cast<int64_t>(memories.size());
  hamux::Tensor<double> xi({kPixels, m});
  for (int64_t j = 0; j < m; ++j)
    for (int p = 0; p < kPixels; ++p) xi[p * m + j] = memories[j][p];
  return xi;
}

Image sample_of(const hamux::Tensor<double>& t, int64_t b) {
  return Image(t.data.begin() + b * kPixels, t.data.begin() + (b + 1) * kPixels);
}

double dot(const Image& a, const Image& b) {
  double s = 0;
  for (int p = 0; p < kPixels; ++p) s += a[p] * b[p];
  return s;
}

int nearest(const std::vector<Image>& memories, const Image& x) {
  int best = 0;
  double best_d = INFINITY;
  for (size_t m = 0; m < memories.size(); ++m) {
    double d = 0;
    for (int p = 0; p < kPixels; ++p) d += (memories[m][p] - x[p]) * (memories[m][p] - x[p]);
    if (d < best_d) best_d = d, best = static_cast<int>(m);
  }
  return best;
}

double rms_error(const Image& a, const Image& b) {
  double s = 0;
  for (int p = 0; p < kPixels; ++p) s += (a[p] - b[p]) * (a[p] - b[p]);
  return std::sqrt(s / kPixels);
}

struct Result {
  std::vector<Image> corrupted, retrieved;
  hamux::RunReport report;
  double seconds = 0;
};

// Runs the memory on a batch of corrupted queries; `clamp_mask` (nonzero = known pixel) or none.
Result retrieve(const hamux::Ham& ham, const std::vector<Image>& corrupted, const hamux::Tensor<double>* clamp_mask,
                const Args& args) {
  hamux::States s = ham.zeros(static_cast<int64_t>(corrupted.size()));
  for (size_t b = 0; b < corrupted.size(); ++b) {
    s.set_sample("image", static_cast<int64_t>(b), hamux::Tensor<double>({kPixels}, corrupted[b]));
  }
  if (clamp_mask) s.clamp("image", *clamp_mask);
  hamux::RunOptions o;
  o.steps = args.steps;
  o.dt = args.dt;
  o.tol = 1e-4;
  o.threads = args.threads;
  o.record_every = 10;
  Result r;
  r.corrupted = corrupted;
  const auto t0 = std::chrono::steady_clock::now();
  r.report = hamux::run(ham, s, o);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const hamux::Tensor<double> x = s.get("image");
  for (size_t b = 0; b < corrupted.size(); ++b) r.retrieved.push_back(sample_of(x, static_cast<int64_t>(b)));
  return r;
}

void show(const std::string& title, const std::vector<Image>& memories, const Result& r) {
  std::printf("\n== %s: %lld steps (%s), %.3f s\n", title.c_str(), static_cast<long long>(r.report.steps),
              r.report.converged ? "converged" : "step limit", r.seconds);
  // The energy, per query, at a few recorded steps: it only goes down.
  const auto& trace = r.report.trace;
  std::printf("   step");
  for (size_t b = 0; b < kQueries.size(); ++b) std::printf("   query %zu", b);
  std::printf("\n");
  for (size_t k = 0; k < trace.size(); ++k) {
    if (!(k < 4 || k + 1 == trace.size() || k % 10 == 0)) continue;
    std::printf("%7lld", static_cast<long long>(trace[k].step));
    for (double e : trace[k].energy) std::printf(" %9.2f", e);
    std::printf("\n");
  }
  int correct = 0;
  for (size_t b = 0; b < kQueries.size(); ++b) {
    const Image& truth = memories[kQueries[b]];
    const int got = nearest(memories, r.retrieved[b]);
    correct += got == kQueries[b];
    std::printf("\nquery %zu: memory %d, rms error %.3f -> %.3f, nearest memory after: %d%s\n", b, kQueries[b],
                rms_error(r.corrupted[b], truth), rms_error(r.retrieved[b], truth), got,
                got == kQueries[b] ? " (retrieved)" : " (wrong memory)");
    std::cout << demo::ascii_row({truth, r.corrupted[b], r.retrieved[b]}, {"stored", "corrupted", "after"});
  }
  std::printf("%s: %d of %zu queries retrieved\n", title.c_str(), correct, kQueries.size());
}

int main_demo(int argc, char** argv) {
  const Args args = parse(argc, argv);
  std::vector<Image> memories;
  std::string source;
  const std::string images = args.data + "/t10k-images-idx3-ubyte.gz";
  if (!args.synthetic && std::filesystem::exists(images)) {
    memories = demo::load_idx_gz(images, kMemories);
    source = "Fashion-MNIST (" + images + ", first " + std::to_string(kMemories) + " test images)";
  } else {
    memories = demo::synthetic_shapes(kMemories);
    source = args.synthetic ? "synthetic shapes (--synthetic)"
                            : "synthetic shapes (" + images + " not found; apt-get install dataset-fashion-mnist)";
  }
  // The energy scores a memory by its dot product with the state, which favours bright
  // pictures; scaled to one common norm, the score ranks memories by distance instead.
  double mean_norm = 0;
  for (const Image& m : memories) mean_norm += std::sqrt(dot(m, m)) / kMemories;
  for (Image& m : memories) {
    const double f = mean_norm / std::sqrt(dot(m, m));
    for (double& v : m) v *= f;
  }
  std::printf("memories: %d pictures of %dx%d from %s\n", kMemories, kSide, kSide, source.c_str());

  const auto t0 = std::chrono::steady_clock::now();
  hamux::Ham ham = hamux::Ham::load(args.model);
  ham.set_param("Xi", memory_matrix(memories));
  const double compile_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("model: %s (%s), loaded and compiled in %.3f s\n", ham.name().c_str(), args.model.c_str(), compile_s);

  // Corruption 1: the lower half is unknown (set to grey); the upper half is clamped.
  hamux::Tensor<double> known({kPixels});
  std::vector<Image> occluded;
  for (int p = 0; p < kPixels / 2; ++p) known[p] = 1;
  for (int q : kQueries) {
    Image img = memories[q];
    for (int p = kPixels / 2; p < kPixels; ++p) img[p] = 0;
    occluded.push_back(img);
  }
  // Corruption 2: strong noise on every pixel, nothing clamped.
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.8);
  std::vector<Image> noisy;
  for (int q : kQueries) {
    Image img = memories[q];
    for (double& v : img) v += noise(rng);
    noisy.push_back(img);
  }

  // One compiled program serves both batches.
  const Result a = retrieve(ham, occluded, &known, args);
  show("lower half hidden (upper half clamped)", memories, a);
  const Result b = retrieve(ham, noisy, nullptr, args);
  show("gaussian noise, sigma 0.8", memories, b);

  std::filesystem::create_directories(args.out);
  std::vector<std::vector<Image>> grid;
  for (size_t k = 0; k < kQueries.size(); ++k) {
    grid.push_back({memories[kQueries[k]], a.corrupted[k], a.retrieved[k], b.corrupted[k], b.retrieved[k]});
  }
  const std::string pgm = args.out + "/retrieval.pgm";
  hamux::write_file_atomic(pgm, demo::pgm_grid(grid, 3));
  hamux::write_file_atomic(args.out + "/energy_occluded.svg", hamux::trace_svg(a.report.trace, "energy, lower half hidden"));
  hamux::write_file_atomic(args.out + "/energy_noisy.svg", hamux::trace_svg(b.report.trace, "energy, noisy queries"));
  hamux::write_file_atomic(args.out + "/energy_occluded.csv", hamux::trace_csv(a.report.trace));
  std::printf("\nwrote %s (columns: stored, hidden half, after, noisy, after), %s/energy_*.svg, %s/energy_occluded.csv\n",
              pgm.c_str(), args.out.c_str(), args.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return main_demo(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
