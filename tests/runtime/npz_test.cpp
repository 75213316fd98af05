// tests/runtime/npz_test.cpp - .npz archives, params files, atomic writes, trace files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/run_hamux.h"
#include "frontend/npy.h"
#include "hamux/hamux.h"
#include "hamux/io.h"
#include "zip.h"

namespace hamux {
namespace {

using test::ScratchDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Zip, Crc32OfKnownStrings) {
  EXPECT_EQ(zip::crc32(""), 0u);
  EXPECT_EQ(zip::crc32("123456789"), 0xcbf43926u);  // the CRC-32 check value
  EXPECT_EQ(zip::crc32("The quick brown fox jumps over the lazy dog"), 0x414fa339u);
}

TEST(Zip, StoredArchiveRoundTrips) {
  const std::vector<std::pair<std::string, std::string>> members = {{"a.npy", "hello"}, {"b.npy", std::string(3, '\0')}};
  EXPECT_EQ(zip::read(zip::write_stored(members), "x.zip"), members);
}

TEST(Zip, CorruptedDataFailsTheCrc) {
  std::string bytes = zip::write_stored({{"a.npy", "hello world"}});
  bytes[30 + 5 + 2] ^= 1;  // inside the data, after the 30-byte header and the name
  try {
    zip::read(bytes, "x.npz");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "x.npz: member 'a.npy' fails its CRC-32 check");
  }
}

TEST(Npz, WriteThenReadFloat32AndFloat64) {
  ScratchDir dir;
  Tensor<double> a({2, 3}, {1, 2, 3, 4, 5, 6.5}), s(Shape{}, {3.25}), v({1}, {-1});
  for (bool f64 : {false, true}) {
    const std::string path = dir.path + (f64 ? "/d.npz" : "/f.npz");
    write_npz(path, {{"a", a}, {"scalar", s}, {"v", v}}, f64);
    const auto back = read_npz(path);
    ASSERT_EQ(back.size(), 3u);
    EXPECT_EQ(back.at("a").shape, a.shape);
    EXPECT_EQ(back.at("a").data, a.data);
    EXPECT_EQ(back.at("scalar").shape, Shape{});
    EXPECT_EQ(back.at("scalar").data, s.data);
    EXPECT_EQ(back.at("v").shape, Shape{1});
  }
  // An .npy written by hamux is read back by the frontend's reader.
  write_npy_atomic(dir.path + "/a.npy", a, false);
  EXPECT_EQ(read_npy(dir.path + "/a.npy").data, a.data);
}

TEST(Npz, ReadsDeflateMembersWrittenLikeSavezCompressed) {
  // Made by Python's zipfile (ZIP_DEFLATED, force_zip64 as numpy does).
  const auto arrays = read_npz(std::string(HAMUX_SOURCE_DIR) + "/tests/runtime/data/compressed.npz");
  ASSERT_EQ(arrays.size(), 2u);
  EXPECT_EQ(arrays.at("W1").shape, (Shape{2, 3}));
  EXPECT_EQ(arrays.at("W1").data, (std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5}));
  EXPECT_EQ(arrays.at("b").data, (std::vector<double>{1, -2, 0.25, 3}));
}

TEST(Npz, ErrorsNameTheFile) {
  ScratchDir dir;
  auto message = [](const std::string& path) {
    try {
      read_npz(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(dir.path + "/missing.npz"), dir.path + "/missing.npz: cannot open file");
  test::write_text(dir.path + "/junk.npz", "this is not a zip archive at all");
  EXPECT_EQ(message(dir.path + "/junk.npz"), dir.path + "/junk.npz: not a zip archive (no end of central directory)");
}

TEST(Params, SaveAndLoadNpzAndDirectory) {
  ScratchDir dir;
  Ham ham = Ham::load(std::string(HAMUX_MODELS_DIR) + "/readme.json");
  // readme.json is float32: params are saved (and used) as float32.
  const Tensor<double> w1 = ham.param("W1").cast<float>().cast<double>();
  ham.save_params(dir.path + "/p.npz");
  ham.save_params(dir.path + "/pdir");
  EXPECT_TRUE(std::filesystem::exists(dir.path + "/pdir/W2.npy"));
  Tensor<double> zero(w1.shape);
  ham.set_param("W1", zero);
  EXPECT_EQ(ham.param("W1").data, zero.data);
  ham.load_params(dir.path + "/p.npz");
  EXPECT_EQ(ham.param("W1").data, w1.data);
  ham.set_param("W1", zero);
  ham.load_params(dir.path + "/pdir");
  EXPECT_EQ(ham.param("W1").data, w1.data);
}

TEST(Params, NewParamsChangeTheDynamicsWithoutRecompiling) {
  Ham ham = Ham::load(std::string(HAMUX_MODELS_DIR) + "/readme.json");
  States a = ham.normal(1, 1), b = a.clone();
  RunOptions o;
  o.steps = 10;
  run(ham, a, o);
  Tensor<double> w = ham.param("W1");
  for (double& v : w.data) v *= 10;
  ham.set_param("W1", w);
  run(ham, b, o);
  EXPECT_NE(a.get("input").data, b.get("input").data);
}

TEST(Params, BadFilesAreRefusedAndChangeNothing) {
  ScratchDir dir;
  Ham ham = Ham::load(std::string(HAMUX_MODELS_DIR) + "/readme.json");
  const Tensor<double> w1 = ham.param("W1");
  auto message = [&](const std::string& path) {
    try {
      ham.load_params(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  write_npz(dir.path + "/extra.npz", {{"W1", Tensor<double>({7, 9})}, {"W3", Tensor<double>({2})}}, false);
  EXPECT_EQ(message(dir.path + "/extra.npz"),
            dir.path + "/extra.npz: array 'W3' names no param of " + std::string(HAMUX_MODELS_DIR) +
                "/readme.json (params: W1, W2)");
  write_npz(dir.path + "/shape.npz", {{"W2", Tensor<double>({9, 8})}}, false);
  EXPECT_EQ(message(dir.path + "/shape.npz"), dir.path + "/shape.npz: array 'W2' has shape [9,8], the param has [8,9]");
  EXPECT_EQ(message(dir.path + "/none.npz"), dir.path + "/none.npz: cannot open file");
  EXPECT_EQ(ham.param("W1").data, w1.data);
}

TEST(AtomicWrite, ReplacesWholeFilesAndLeavesNoTemporaries) {
  ScratchDir dir;
  const std::string path = dir.path + "/out.txt";
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  EXPECT_EQ(slurp(path), "second");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  try {
    write_file_atomic(dir.path + "/no/such/dir/x.txt", "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), (dir.path + "/no/such/dir/x.txt: cannot create file: No such file or directory").c_str());
  }
}

TEST(TraceFiles, CsvHasOneRowPerRecordedStepAndOneColumnPerSample) {
  std::vector<TraceRow> trace = {{0, {1.5, -2}, {}}, {10, {1.25, -2.5}, {}}};
  EXPECT_EQ(trace_csv(trace), "step,sample_0,sample_1\n0,1.5,-2\n10,1.25,-2.5\n");
  const std::string svg = trace_svg(trace, "energy of <m>");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_NE(svg.find("energy of &lt;m&gt;"), std::string::npos);
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n') > 10, true);
  size_t lines = 0;
  for (size_t at = svg.find("<polyline"); at != std::string::npos; at = svg.find("<polyline", at + 1)) ++lines;
  EXPECT_EQ(lines, 2u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
}

}  // namespace
}  // namespace hamux
