// tests/runtime/training/data_errors_test.cpp - data sets: what load_dataset reads (.npy of
// any numeric dtype, .npz members, IDX plain or gzip-compressed) and the exact message for
// every kind of bad data, raised before anything is trained.
#include <zlib.h>

#include "hamux/io.h"
#include "training_testing.h"

namespace hamux::traintest {
namespace {

// A .npy file with a hand-written header: any dtype, any bytes.
std::string npy_file(const std::string& descr, const Shape& shape, const std::string& data) {
  std::string dims;
  for (int64_t d : shape) dims += std::to_string(d) + ", ";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  header.resize(((header.size() + 11) / 64 + 1) * 64 - 11, ' ');
  header += "\n";
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

// An IDX file of unsigned bytes.
std::string idx_file(const Shape& shape, const std::vector<unsigned char>& values) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(shape.size())};
  for (int64_t d : shape)
    for (int k = 3; k >= 0; --k) out += static_cast<char>((d >> (8 * k)) & 0xff);
  return out + std::string(values.begin(), values.end());
}

std::string gzip_file(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return path;
}

ArraySource src(const std::string& file, const std::string& member = "", const Shape& sample_shape = {}) {
  ArraySource a;
  a.file = file;
  a.member = member;
  a.sample_shape = sample_shape;
  return a;
}

TEST(Dataset, ReadsIntegerNpyNpzMembersAndIdxPlainOrGzipped) {
  Scratch s;
  std::string i8;
  for (int64_t v : {3, -1, 7}) i8.append(reinterpret_cast<const char*>(&v), 8);
  const std::string labels = s.write("labels.npy", npy_file("<i8", {3}, i8));
  const std::vector<unsigned char> pixels = {0, 255, 128, 1, 2, 3};
  const std::string raw = s.write("images-idx3-ubyte", idx_file({3, 1, 2}, pixels));
  const std::string gz = gzip_file(s.path("images-idx3-ubyte.gz"), idx_file({3, 1, 2}, pixels));
  ArraySource img = src(raw, "", {2});
  img.scale = 1.0 / 255;
  Dataset d = load_dataset("train data", {{"labels", src(labels)}, {"images", img}});
  EXPECT_EQ(d.size(), 3);
  EXPECT_EQ(d.arrays["labels"].data, (std::vector<double>{3, -1, 7}));
  EXPECT_EQ(d.arrays["images"].shape, (Shape{3, 2}));
  EXPECT_DOUBLE_EQ(d.arrays["images"].data[1], 1.0);
  EXPECT_DOUBLE_EQ(d.arrays["images"].data[2], 128.0 / 255);
  img.file = gz;
  EXPECT_EQ(load_dataset("train data", {{"images", img}}).arrays["images"].data, d.arrays["images"].data);
  Tensor<double> t(Shape{3, 2});
  t.data = {1, 2, 3, 4, 5, 6};
  write_npz(s.path("d.npz"), {{"x", t}}, true);
  Dataset z = load_dataset("train data", {{"inputs", src(s.path("d.npz"), "x")}});
  EXPECT_EQ(z.arrays["inputs"].data, t.data);
  // Two arrays of one archive (read once), one of them naming the same member again.
  Tensor<double> u(Shape{3});
  u.data = {7, 8, 9};
  write_npz(s.path("two.npz"), {{"x", t}, {"y", u}}, false);
  Dataset both = load_dataset("train data", {{"x", src(s.path("two.npz"))}, {"y", src(s.path("two.npz"))},
                                             {"again", src(s.path("two.npz"), "y")}});
  EXPECT_EQ(both.arrays["x"].data, t.data);
  EXPECT_EQ(both.arrays["y"].data, u.data);
  EXPECT_EQ(both.arrays["again"].data, u.data);
}

TEST(Dataset, FileErrorsNameTheFileAndTheCause) {
  Scratch s;
  const std::string c16 = s.write("x.npy", npy_file("<c16", {2}, std::string(32, '\0')));
  EXPECT_EQ(error_of([&] { load_dataset("train data", {{"x", src(c16)}}); }),
            c16 + ": dtype '<c16' is not supported (expected a float, integer or bool dtype such as '<f4', '<i8' "
                  "or '|u1')");
  const std::string junk = s.write("junk.bin", "hello world");
  EXPECT_EQ(error_of([&] { load_dataset("train data", {{"x", src(junk)}}); }), junk + ": not an IDX file (bad magic number)");
  const std::string short_idx = s.write("short-idx1-ubyte", idx_file({4}, {1, 2, 3}));
  EXPECT_EQ(error_of([&] { load_dataset("train data", {{"y", src(short_idx)}}); }),
            short_idx + ": IDX data of 3 bytes for shape [4], expected 4");
  EXPECT_EQ(error_of([&] { load_dataset("train data", {{"y", src(s.path("missing.npy"))}}); }),
            s.path("missing.npy") + ": cannot open file");
  Tensor<double> t(Shape{2});
  write_npz(s.path("d.npz"), {{"x", t}}, true);
  EXPECT_EQ(error_of([&] { load_dataset("train data", {{"y", src(s.path("d.npz"))}}); }),
            s.path("d.npz") + ": no array 'y' (it has: x)");
  const std::string idx = s.write("i-idx3-ubyte", idx_file({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(error_of([&] { load_dataset("train data", {{"x", src(idx, "", {3})}}); }),
            "train data: array 'x' (" + idx + "): samples of shape [2,2] cannot be reshaped to [3] (a different "
                                              "number of elements)");
}

TEST(Dataset, ArraysOfDifferentLengthsAreRefused) {
  Scratch s;
  const std::string a = s.write("a-idx1-ubyte", idx_file({10}, std::vector<unsigned char>(10, 1)));
  const std::string b = s.write("b-idx1-ubyte", idx_file({9}, std::vector<unsigned char>(9, 1)));
  EXPECT_EQ(error_of([&] { load_dataset("train data", {{"images", src(a)}, {"labels", src(b)}}); }),
            "train data: arrays of different lengths: 'images' (" + a + ") has 10 samples, 'labels' (" + b + ") 9");
}

// Each bad data set is refused by train() before the first step: the params stay as they were.
void expect_refused(const Dataset& data, const std::string& message, const Dataset* validation = nullptr) {
  Ham ham = Ham::from_json(classifier_json());
  const auto before = params_of(ham);
  EXPECT_EQ(error_of([&] { train(ham, data, validation, classifier_options()); }), message);
  EXPECT_EQ(params_of(ham), before);
}

TEST(TrainData, EveryBadArrayIsNamedBeforeTraining) {
  Dataset d = blobs(40, 1);
  d.arrays["labels"].data[5] = 4;
  expect_refused(d, "train data: array 'labels' (labels.npy): sample 5: class index 4 is out of range for neuron "
                    "'labels' (4 elements: 0 to 3)");
  d = blobs(40, 1);
  d.arrays["labels"].data[6] = 1.5;
  expect_refused(d, "train data: array 'labels' (labels.npy): sample 6: class index 1.5 is not an integer");
  d = blobs(40, 1);
  d.arrays["labels"].data[7] = -1;
  expect_refused(d, "train data: array 'labels' (labels.npy): sample 7: class index -1 is out of range for neuron "
                    "'labels' (4 elements: 0 to 3)");
  d = blobs(40, 1);
  d.arrays["images"].data[3 * 8 + 2] = std::nan("");
  expect_refused(d, "train data: array 'images' (images.npy): sample 3, element 2 is nan");
  d = blobs(40, 1);
  d.arrays["images"].data[9 * 8 + 7] = -INFINITY;
  expect_refused(d, "train data: array 'images' (images.npy): sample 9, element 7 is -inf");
  d = blobs(40, 1);
  d.arrays["images"] = Tensor<double>(Shape{40, 7});
  expect_refused(d, "train data: array 'images' (images.npy): samples of shape [7] do not fit neuron 'input' of "
                    "shape [8]");
  d = blobs(40, 1);
  d.arrays["labels"] = Tensor<double>(Shape{40, 3});
  expect_refused(d, "train data: array 'labels' (labels.npy): targets of shape [3] do not fit neuron 'labels' of "
                    "shape [4] (nor are they class indices [N])");
  d = blobs(40, 1);
  d.arrays.erase("images");
  expect_refused(d, "train data: no array 'images' (it has: labels)");
  Dataset val = blobs(10, 2);
  val.name = "validation data";
  val.arrays["labels"].data[2] = 9;
  expect_refused(blobs(40, 1), "validation data: array 'labels' (labels.npy): sample 2: class index 9 is out of range "
                               "for neuron 'labels' (4 elements: 0 to 3)", &val);
  Dataset empty;
  empty.name = "train data";
  expect_refused(empty, "train data: has no samples");
}

TEST(TrainData, BadOptionsAreNamed) {
  Ham ham = Ham::from_json(classifier_json());
  const Dataset d = blobs(20, 1);
  TrainOptions o = classifier_options();
  o.feeds[0].neuron = "pixels";
  EXPECT_EQ(error_of([&] { train(ham, d, nullptr, o); }),
            "neuron 'pixels': unknown neuron (<json> has: input, labels, hidden)");
  o = classifier_options();
  o.batch = 0;
  EXPECT_EQ(error_of([&] { train(ham, d, nullptr, o); }), "training: batch must be >= 1, got 0");
  o = classifier_options();
  o.target = "";
  EXPECT_EQ(error_of([&] { train(ham, d, nullptr, o); }), "training: no target: name the array holding the loss's targets");
  o = classifier_options();
  o.resume = true;
  EXPECT_EQ(error_of([&] { train(ham, d, nullptr, o); }),
            "training: resume needs an output folder (out_dir) holding checkpoint.npz");
}

TEST(TrainData, ADivergingRunNamesTheEpochAndBatch) {
  Ham ham = Ham::from_json(classifier_json());
  TrainOptions o = classifier_options();
  o.optimizer.name = "sgd";
  o.optimizer.lr = 1e6;  // the first step blows the weights up; the second batch's run overflows
  const std::string e = error_of([&] { train(ham, blobs(64, 1), nullptr, o); });
  EXPECT_EQ(e.rfind("training: epoch 1, batch 2 (samples 16 to 31 of the epoch's order): ", 0), 0u) << e;
}

}  // namespace
}  // namespace hamux::traintest
