// tests/runtime/hostile_files_test.cpp - issue 19: special files, size limits, zip bombs,
// the zip64 offset overflow, FIFO inputs, non-finite params, escaped names (exact messages).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/run_hamux.h"
#include "support/files.h"
#include "frontend/npy.h"
#include "support/printable.h"
#include "hamux/io.h"
#include "zip.h"

namespace hamux {
namespace {

using test::run_hamux;
using test::ScratchDir;

const std::string kReadme = std::string(HAMUX_MODELS_DIR) + "/readme.json";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class F>
std::string message_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

void put32(std::string& s, size_t at, uint32_t v) {
  for (int k = 0; k < 4; ++k) s[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

TEST(HostileFiles, FifoInputIsRefusedNotWaitedFor) {
  ScratchDir dir;
  const std::string fifo = dir.path + "/in.npy";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(message_of([&] { read_npy(fifo); }), fifo + ": is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(message_of([&] { read_npz(fifo); }), fifo + ": is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(message_of([&] { read_npy("/dev/zero"); }), "/dev/zero: is a character device, not a regular file");
  EXPECT_EQ(message_of([&] { read_npy(dir.path); }), dir.path + ": is a directory, not a regular file");
}

TEST(HostileFiles, NpyLargerThanExpectedIsRefusedBeforeReading) {
  ScratchDir dir;
  const std::string path = dir.path + "/big.npy";
  save_npy(path, Tensor<double>({100, 100}));
  const uint64_t size = std::filesystem::file_size(path);
  EXPECT_EQ(message_of([&] { read_npy(path, 12); }),
            path + ": is " + std::to_string(size) + " bytes, more than the " + std::to_string(npy_max_file_bytes(12)) +
                " bytes a .npy file of at most 12 values can take");
  // A small file whose header claims a large shape is refused by its shape.
  save_npy(path, Tensor<double>({3, 5}));
  EXPECT_EQ(message_of([&] { read_npy(path, 12); }), path + ": shape [3,5] has 15 elements, more than the 12 expected");
  EXPECT_EQ(read_npy(path, 15).shape, (Shape{3, 5}));
}

TEST(HostileFiles, NpzMemberDeclaringMoreThanItsParamIsRefusedBeforeInflating) {
  ScratchDir dir;
  const std::string path = dir.path + "/bomb.npz";
  std::string zip = zip::write_stored({{"W.npy", npy_bytes(Tensor<double>({2}), true)}});
  // Claim 4 GiB - 1 uncompressed in the central directory entry (offset 24 of the entry).
  const size_t central = zip.find("PK\x01\x02");
  put32(zip, central + 24, 0xfffffffeu);
  write_file_atomic(path, zip);
  NpzLimits limits;
  limits.max_elements = [](const std::string&) { return int64_t{2}; };
  EXPECT_EQ(message_of([&] { read_npz(path, limits); }),
            path + ": member 'W.npy' declares 4294967294 bytes, more than the " +
                std::to_string(npy_max_file_bytes(2)) + " bytes its array can take");
}

TEST(HostileFiles, Zip64OffsetNearTwoToThe64IsRefusedNotReadOutOfBounds) {
  std::string zip = zip::write_stored({{"a.npy", npy_bytes(Tensor<double>({1}), true)}});
  // Rewrite the central entry: offset 0xffffffff, and a zip64 extra field holding 2^64 - 2.
  const size_t central = zip.find("PK\x01\x02");
  const size_t end = zip.find("PK\x05\x06");
  std::string entry = zip.substr(central, end - central);
  put32(entry, 42, 0xffffffffu);
  entry[30] = 12;  // extra length
  entry += std::string("\x01\x00\x08\x00", 4) + std::string("\xfe\xff\xff\xff\xff\xff\xff\xff", 8);
  std::string tail = zip.substr(end);
  put32(tail, 12, static_cast<uint32_t>(entry.size()));
  const std::string hostile = zip.substr(0, central) + entry + tail;
  EXPECT_EQ(message_of([&] { zip::read(hostile, "x.npz"); }), "x.npz: corrupt zip local header of member 'a.npy'");
}

TEST(HostileFiles, MemberNamesInMessagesAreEscaped) {
  const std::string zip = zip::write_stored({{std::string("a\x1b[2J\x07.bin"), "x"}});
  ScratchDir dir;
  write_file_atomic(dir.path + "/n.npz", zip);
  EXPECT_EQ(message_of([&] { read_npz(dir.path + "/n.npz"); }),
            dir.path + "/n.npz: member 'a\\x1b[2J\\x07.bin' is not a .npy file");
  EXPECT_EQ(printable("x\xe2\x80\xaey"), "x\\u202ey");
  EXPECT_EQ(printable(std::string("n\0l\xff", 4)), "n\\x00l\\xff");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(HostileFiles, NonFiniteParamsAreRefusedWhenLoaded) {
  Ham ham = Ham::load(kReadme);
  const std::string name = ham.param_names()[0];
  Tensor<double> t = ham.param(name);
  t.data[1] = std::nan("");
  EXPECT_EQ(message_of([&] { ham.set_param(name, t); }),
            "param '" + name + "': element " + non_finite_element(t).substr(8) + " (param values must be finite)");
  EXPECT_NE(non_finite_element(t).find(" is nan"), std::string::npos);
  ScratchDir dir;
  write_npz(dir.path + "/p.npz", {{name, t}}, true);
  EXPECT_EQ(message_of([&] { ham.load_params(dir.path + "/p.npz"); }),
            dir.path + "/p.npz: array '" + name + "': " + non_finite_element(t) + " (param values must be finite)");
}

TEST(HostileFiles, SpecialOutputsAreWrittenThroughNotReplaced) {
  ScratchDir dir;
  // A symlink: its target is replaced, the link stays a link.
  const std::string target = dir.path + "/target.csv", link = dir.path + "/link.csv";
  write_file_atomic(target, "old");
  std::filesystem::create_symlink(target, link);
  write_file_atomic(link, "new");
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(slurp(target), "new");
  // A FIFO: the bytes go to its reader, the FIFO stays a FIFO.
  const std::string fifo = dir.path + "/trace.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  write_file_atomic(fifo, "through the pipe");
  char buf[64] = {};
  EXPECT_EQ(::read(reader, buf, sizeof buf), 16);
  ::close(reader);
  EXPECT_EQ(std::string(buf), "through the pipe");
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  // A directory is refused.
  EXPECT_EQ(message_of([&] { write_file_atomic(dir.path, "x"); }), dir.path + ": is a directory, not a file");
  // The command: /dev/null as --trace stays the device.
  const auto r = run_hamux("run '" + kReadme + "' --steps 2 --trace /dev/null");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
}

TEST(HostileFiles, NewFilesGetTheUmaskModeWithoutChangingIt) {
  ScratchDir dir;
  const mode_t old = umask(027);
  write_file_atomic(dir.path + "/f", "x");
  const mode_t now = umask(old);
  EXPECT_EQ(now, 027u);
  EXPECT_EQ(std::filesystem::status(dir.path + "/f").permissions(),
            static_cast<std::filesystem::perms>(0640));
}

TEST(HostileFiles, HugeBatchSaysHowMuchMemoryItNeeds) {
  const auto r = run_hamux("run '" + kReadme + "' --batch 4611686018427387904");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err.rfind("error: batch: a batch of 4611686018427387904 needs ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(" for its states, more than this machine's "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hamux

namespace hamux {
namespace {

// A Lagrangian that is NaN for x < -0.5: energies of a normal:1 start are not finite.
const char* const kLogModel = R"({
  "hamux": "1", "name": "log-lagrangian", "dtype": "float64",
  "neurons": {"x": {"shape": [3], "lagrangian": {"expr": {
    "inputs": ["x"], "value": ["sum", ["log", ["add", "x", 0.5]]]}}}},
  "connections": []
})";

TEST(HostileFiles, NonFiniteEnergyStopsTheRunNamingSampleTermAndStep) {
  ScratchDir dir;
  const std::string model = dir.path + "/log.json";
  write_file_atomic(model, kLogModel);
  for (const std::string guard : {"", " --guard"}) {
    const auto r = run_hamux("run '" + model + "' --steps 3 --init normal:1 --trace '" + dir.path + "/t.csv'" + guard);
    EXPECT_EQ(r.status, 1) << r.out;
    EXPECT_EQ(r.err.rfind("error: " + model + ": sample ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(": energy is nan at step 0 (neuron x is not finite)"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace hamux
