// examples/results/fashion.cpp - a dense associative memory on Fashion-MNIST: retrieval error
// against the number of stored images K and the corruption level (issue 8, docs/results.md).
//
// The model is the one of the retrieval demo (examples/retrieval): 784 identity neurons (the
// image, pixels in [-1, 1]) and a hopfield synapse whose memories Xi [784, K] are the stored
// images, with a softmax hidden layer:
//   E(x) = 1/2 |x|^2 - 1/beta logsumexp(beta Xi^T x),  -dE/dx = Xi softmax(beta Xi^T x) - x,
// so an Euler step with dt = 1 is the modern-Hopfield update x <- Xi softmax(beta Xi^T x); the
// run repeats it until it stops moving (max |dx| < 1e-6) or 10 steps.
//
// Queries: the first min(K, 128) stored images, corrupted in one of two ways at a fraction f of
// pixels chosen at random: "hidden" (set to 0, grey: the value is unknown) or "noise" (replaced
// by a uniform random value in [-1, 1]). A query is retrieved when the stored image nearest to
// the final state (Euclidean) is its own; the error is the fraction not retrieved. The
// reference column: how often the stored image with the largest dot product with the corrupted
// query (the nearest one; all stored images have one norm) is the wrong one - the limit of
// one-step retrieval at infinite beta. Images come
// from the test set (t10k), in file order, so larger K contains the smaller sets.
//
// Two inverse temperatures: beta = 0.1 (the softmax still blends neighbouring images) and
// beta = 1 (it picks one).
//
//   hamux_results_fashion [--data DIR] [--svg FILE]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "hamux/hamux.h"
#include "images.h"

namespace {

using demo::Image;
using demo::kPixels;

constexpr int kMaxQueries = 128;
const std::vector<int> kStored = {16, 64, 256, 1024};
const std::vector<double> kLevels = {0.25, 0.5, 0.75, 0.9};
const std::vector<double> kBetas = {0.1, 1.0};
const std::vector<std::string> kKinds = {"hidden", "noise"};

std::string model_file(int k, double beta) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("hamux_fashion_" + std::to_string(k) + "_" + std::to_string(beta) + ".json"))
                               .string();
  std::ofstream(path) << R"({"hamux": "1", "name": "fashion-dam",
    "params": {"Xi": {"shape": [784, )" << k << R"(], "init": {"zeros": {}}}},
    "neurons": {"image": {"shape": [784], "lagrangian": "identity"}},
    "synapses": {"memory": {"hopfield": {"Xi": "Xi", "lagrangian": {"softmax": {"beta": )"
                      << beta << R"(}}}}},
    "connections": [{"neurons": ["image"], "synapse": "memory"}]})";
  return path;
}

Image corrupt(const Image& x, const std::string& kind, double level, std::mt19937_64& rng) {
  std::vector<int> order(kPixels);
  for (int p = 0; p < kPixels; ++p) order[p] = p;
  std::shuffle(order.begin(), order.end(), rng);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Image y = x;
  const int n = static_cast<int>(std::lround(level * kPixels));
  for (int i = 0; i < n; ++i) y[order[i]] = kind == "hidden" ? 0.0 : uniform(rng);
  return y;
}

// Index of the stored image with the largest dot product with x (for x of the memories' norm,
// the Euclidean nearest).
int best_match(const std::vector<Image>& memories, int k, const double* x) {
  int best = 0;
  double best_s = -INFINITY;
  for (int m = 0; m < k; ++m) {
    double d = 0;
    for (int p = 0; p < kPixels; ++p) d += memories[m][p] * x[p];
    if (d > best_s) best_s = d, best = m;
  }
  return best;
}

struct Point {
  std::string kind;
  double beta, level;
  int k, queries, wrong, nearest_wrong;
};

// One panel per beta: retrieval error (%) against log2 K, one polyline per (kind, level).
std::string svg_panel(const std::vector<Point>& points, double beta, double x0) {
  const double w = 560, h = 360, left = x0 + 60, right = 150, top = 30, bottom = 50;
  const double pw = w - left - right, ph = h - top - bottom;
  auto sx = [&](int k) {
    return left + pw * (std::log2(k) - std::log2(kStored.front())) /
                      (std::log2(kStored.back()) - std::log2(kStored.front()));
  };
  auto sy = [&](double pct) { return top + ph * (1 - pct / 100.0); };
  std::string s;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "<text x=\"%g\" y=\"18\">Fashion-MNIST DAM, beta = %g: retrieval error</text>\n",
                left, beta);
  s += buf;
  for (int pct = 0; pct <= 100; pct += 25) {
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"#ddd\"/><text x=\"%g\" y=\"%g\" "
                  "text-anchor=\"end\">%d%%</text>\n",
                  left, sy(pct), left + pw, sy(pct), left - 6, sy(pct) + 4, pct);
    s += buf;
  }
  for (int k : kStored) {
    std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%d</text>\n", sx(k),
                  top + ph + 18, k);
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">stored images K</text>\n",
                left + pw / 2, h - 10);
  s += buf;
  const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
  int line = 0;
  for (const std::string& kind : kKinds) {
    for (size_t l = 0; l < kLevels.size(); ++l, ++line) {
      std::string pts;
      for (const Point& p : points) {
        if (p.kind != kind || p.level != kLevels[l] || p.beta != beta) continue;
        std::snprintf(buf, sizeof buf, "%g,%g ", sx(p.k), sy(100.0 * p.wrong / p.queries));
        pts += buf;
      }
      const char* dash = kind == "noise" ? " stroke-dasharray=\"6,4\"" : "";
      std::snprintf(buf, sizeof buf,
                    "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>\n"
                    "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"2\"%s/>"
                    "<text x=\"%g\" y=\"%g\">%s %d%%</text>\n",
                    pts.c_str(), colors[l], dash, left + pw + 10, top + 10 + 18.0 * line, left + pw + 35,
                    top + 10 + 18.0 * line, colors[l], dash, left + pw + 40, top + 14 + 18.0 * line, kind.c_str(),
                    static_cast<int>(kLevels[l] * 100));
      s += buf;
    }
  }
  return s;
}

std::string svg_plot(const std::vector<Point>& points) {
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(560 * kBetas.size()) +
                  "\" height=\"360\" font-family=\"sans-serif\" font-size=\"12\">\n"
                  "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  for (size_t i = 0; i < kBetas.size(); ++i) s += svg_panel(points, kBetas[i], 560.0 * i);
  return s + "</svg>\n";
}

int main_fashion(int argc, char** argv) {
  std::string data = "/usr/share/datasets/fashion-mnist", svg = "fashion.svg";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) throw hamux::Error(arg, "needs a value");
    if (arg == "--data") data = argv[++i];
    else if (arg == "--svg") svg = argv[++i];
    else throw hamux::Error(arg, "unknown option (see the comment at the top of fashion.cpp)");
  }
  const std::string file = data + "/t10k-images-idx3-ubyte.gz";
  // Every stored image is scaled to the norm of an all-white image, sqrt(784) = 28: the update
  // follows the largest dot product Xi^T x, and without equal norms the brightest stored images
  // win over the nearest ones (measured, beta 0.1-5: 17-73% errors at 25% hidden pixels, K >= 64,
  // where the Euclidean nearest stored image was always right). With equal norms, largest dot
  // product = nearest stored image.
  std::vector<Image> images = demo::load_idx_gz(file, kStored.back());
  for (Image& im : images) {
    double n2 = 0;
    for (double v : im) n2 += v * v;
    for (double& v : im) v *= std::sqrt(kPixels / n2);
  }
  std::printf("%s, dt = 1, at most 10 steps\n\n", file.c_str());
  std::printf("| corruption | pixels | K stored | queries | beta | retrieval error (hamux) | best match of the corrupted query is wrong (beta = infinity, one step) |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  std::vector<Point> points;
  for (double beta : kBetas) {
  for (const std::string& kind : kKinds) {
    for (double level : kLevels) {
      for (int k : kStored) {
        hamux::Ham ham = hamux::Ham::load(model_file(k, beta));
        hamux::Tensor<double> xi({kPixels, k});
        for (int m = 0; m < k; ++m)
          for (int p = 0; p < kPixels; ++p) xi[p * k + m] = images[m][p];
        ham.set_param("Xi", xi);
        const int q = std::min(k, kMaxQueries);
        std::mt19937_64 rng(1000 * k + static_cast<int>(level * 100) + (kind == "noise"));
        hamux::States s = ham.zeros(q);
        Point pt{kind, beta, level, k, q, 0, 0};
        for (int b = 0; b < q; ++b) {
          const Image c = corrupt(images[b], kind, level, rng);
          pt.nearest_wrong += best_match(images, k, c.data()) != b;
          s.set_sample("image", b, hamux::Tensor<double>({kPixels}, c));
        }
        hamux::RunOptions o;
        o.steps = 10;
        o.dt = 1.0;
        o.tol = 1e-6;
        hamux::run(ham, s, o);
        const hamux::Tensor<double> x = s.get("image");
        for (int b = 0; b < q; ++b) pt.wrong += best_match(images, k, &x.data[static_cast<size_t>(b) * kPixels]) != b;
        std::printf("| %s | %d%% | %d | %d | %g | %.1f%% (%d) | %.1f%% (%d) |\n", kind.c_str(),
                    static_cast<int>(level * 100), k, q, beta, 100.0 * pt.wrong / q, pt.wrong,
                    100.0 * pt.nearest_wrong / q, pt.nearest_wrong);
        std::fflush(stdout);
        points.push_back(pt);
      }
    }
  }
  }
  std::ofstream(svg) << svg_plot(points);
  std::printf("\nplot: %s\n", svg.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return main_fashion(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hamux_results_fashion: %s\n", e.what());
    return 1;
  }
}
