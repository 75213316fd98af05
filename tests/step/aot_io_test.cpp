// The C helpers of AOT headers (compiler/step/hamux_aot_io.h), compiled here as C++
// (tests/aot/aot_c_test.cpp compiles them as C11): .npy files written by hamux's own writer
// read back, and every mismatch refused with its message.
#include "step/hamux_aot_io.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "frontend/npy.h"

namespace {

class AotIo : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hamux_aot_io_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  // Reads `name` and returns what the reader said on stderr ("" on success).
  std::string read_fails(const std::string& name, const char* descr, int64_t count) const {
    ::testing::internal::CaptureStderr();
    void* data = hamux_aot_read_npy(dir_.c_str(), name.c_str(), descr, count);
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(data, nullptr);
    hamux_aot_free(data);
    return err;
  }
  std::filesystem::path dir_;
};

TEST_F(AotIo, ReadsWhatHamuxWrites) {
  hamux::save_npy(path("w32.npy"), hamux::Tensor<float>({2, 3}, {1.5f, -2, 3, 4, 5, 6.25f}));
  hamux::save_npy(path("w64.npy"), hamux::Tensor<double>({3}, {0.1, -1e300, 7}));
  auto* f = static_cast<float*>(hamux_aot_read_npy(dir_.c_str(), "w32.npy", "<f4", 6));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f) % 64, 0u);
  EXPECT_EQ(f[0], 1.5f);
  EXPECT_EQ(f[1], -2.0f);
  EXPECT_EQ(f[5], 6.25f);
  hamux_aot_free(f);
  auto* d = static_cast<double*>(hamux_aot_read_npy(dir_.c_str(), "w64.npy", "<f8", 3));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d[0], 0.1);
  EXPECT_EQ(d[1], -1e300);
  EXPECT_EQ(d[2], 7.0);
  hamux_aot_free(d);
}

TEST_F(AotIo, ReadsFormatVersion2) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  header.append(64 - (12 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x02\x00", 8);
  const uint32_t n = static_cast<uint32_t>(header.size());
  for (int i = 0; i < 4; ++i) bytes += static_cast<char>((n >> (8 * i)) & 0xff);
  bytes += header;
  const double v[2] = {3.0, -4.5};
  bytes.append(reinterpret_cast<const char*>(v), sizeof v);
  write("v2.npy", bytes);
  auto* d = static_cast<double*>(hamux_aot_read_npy(dir_.c_str(), "v2.npy", "<f8", 2));
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d[0], 3.0);
  EXPECT_EQ(d[1], -4.5);
  hamux_aot_free(d);
}

TEST_F(AotIo, RefusesMismatches) {
  hamux::save_npy(path("w.npy"), hamux::Tensor<double>({2, 3}, 1.0));
  const std::string w = path("w.npy");
  EXPECT_EQ(read_fails("w.npy", "<f4", 6), "hamux_aot: " + w + " is not a C-order <f4 .npy file of 6 elements\n");
  EXPECT_EQ(read_fails("w.npy", "<f8", 5), "hamux_aot: " + w + " is not a C-order <f8 .npy file of 5 elements\n");
  EXPECT_EQ(read_fails("missing.npy", "<f8", 6), "hamux_aot: cannot open " + path("missing.npy") + "\n");

  std::ifstream in(w, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  write("short.npy", bytes.substr(0, bytes.size() - 8));  // one value missing
  EXPECT_EQ(read_fails("short.npy", "<f8", 6),
            "hamux_aot: " + path("short.npy") + " is not a C-order <f8 .npy file of 6 elements\n");
  std::string fortran = bytes;
  const size_t at = fortran.find("False");
  ASSERT_NE(at, std::string::npos);
  fortran.replace(at, 5, "True ");
  write("fortran.npy", fortran);
  EXPECT_EQ(read_fails("fortran.npy", "<f8", 6),
            "hamux_aot: " + path("fortran.npy") + " is not a C-order <f8 .npy file of 6 elements\n");
  write("magic.npy", "PK\x03\x04 not a .npy file at all");
  EXPECT_EQ(read_fails("magic.npy", "<f8", 6),
            "hamux_aot: " + path("magic.npy") + " is not a C-order <f8 .npy file of 6 elements\n");
}

}  // namespace
