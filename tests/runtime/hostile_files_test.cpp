// tests/runtime/hostile_files_test.cpp - issue 19: special files, size limits, zip bombs,
// the zip64 offset overflow, FIFO inputs, non-finite params, escaped names (exact messages);
// and the same through the command: FIFOs as --set/--clamp/--params/--states, a zip64 member
// declaring 2^40 bytes, a batch of 10^15, a full device or filesystem among the outputs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

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

// The same hostile inputs given to the command (issue 19: what a user types): each is refused
// with a message naming the file, before anything is read or allocated.
namespace hamux {
namespace {

std::string quoted(const std::string& path) { return "'" + path + "'"; }

void put64(std::string& s, size_t at, uint64_t v) {
  for (int k = 0; k < 8; ++k) s[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
}

// A one-member .npz whose central directory entry declares `declared` uncompressed bytes
// through a zip64 extra field (the 32-bit size is 0xffffffff); the data stay as they are.
std::string npz_declaring(const std::string& member, const std::string& data, uint64_t declared) {
  const std::string zip = zip::write_stored({{member, data}});
  const size_t central = zip.find("PK\x01\x02");
  const size_t end = zip.find("PK\x05\x06");
  std::string entry = zip.substr(central, end - central);
  put32(entry, 24, 0xffffffffu);
  entry[30] = 12;  // extra length: the zip64 field of one 8-byte value
  std::string extra("\x01\x00\x08\x00", 4);
  extra += std::string(8, '\0');
  put64(extra, 4, declared);
  entry += extra;  // after the name (the entry has no comment)
  std::string tail = zip.substr(end);
  put32(tail, 12, static_cast<uint32_t>(entry.size()));
  return zip.substr(0, central) + entry + tail;
}

TEST(HostileCommandLine, FifoAsSetClampParamsOrStatesIsRefusedNotWaitedFor) {
  ScratchDir dir;
  const std::string fifo = dir.path + "/in.npz";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string refused = "error: " + fifo + ": is a FIFO (named pipe), not a regular file\n";
  for (const std::string& args : {"--set input=" + quoted(fifo), "--clamp input=" + quoted(fifo),
                                  "--params " + quoted(fifo), "--states " + quoted(fifo)}) {
    for (const std::string command : {"run", "energy"}) {
      if (command == "energy" && args.rfind("--clamp", 0) == 0) continue;  // (energy has no --clamp)
      const auto r = run_hamux(command + " " + quoted(kReadme) + " " + args, 60);
      EXPECT_EQ(r.status, 1) << command << " " << args;  // 124: it waited for a writer
      EXPECT_EQ(r.err, refused) << command << " " << args;
    }
  }
  // A FIFO inside a params directory, and one named by a model's param "path".
  const std::string params = dir.path + "/params", w1 = params + "/W1.npy";
  std::filesystem::create_directory(params);
  ASSERT_EQ(mkfifo(w1.c_str(), 0600), 0);
  auto r = run_hamux("run " + quoted(kReadme) + " --params " + quoted(params), 60);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: " + w1 + ": is a FIFO (named pipe), not a regular file\n");
  const std::string model = dir.path + "/m.json";
  write_file_atomic(model, R"({"hamux": "1", "name": "fifo-param", "params": {"W": {"shape": [2, 3], "init": {"file": {"path": "params/W1.npy"}}}},
    "neurons": {"a": {"shape": [2], "lagrangian": "identity"}, "b": {"shape": [3], "lagrangian": "identity"}},
    "synapses": {"s": {"linear": {"W": "W"}}}, "connections": [{"neurons": ["a", "b"], "synapse": "s"}]})");
  r = run_hamux("check " + quoted(model), 60);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: " + model + ": /params/W/init/file: params/W1.npy: is a FIFO (named pipe), not a regular file\n");
}

TEST(HostileCommandLine, Zip64MemberDeclaringATerabyteIsRefusedBySizeBeforeAllocating) {
  ScratchDir dir;
  const uint64_t tera = uint64_t{1} << 40;
  // As --params: the limit is what param W1 ([7, 9] of readme.json) can take.
  const std::string params = dir.path + "/params.npz";
  write_file_atomic(params, npz_declaring("W1.npy", npy_bytes(Tensor<double>({7, 9}), false), tera));
  auto r = run_hamux("run " + quoted(kReadme) + " --params " + quoted(params), 60);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: " + params + ": member 'W1.npy' declares 1099511627776 bytes, more than the " +
                       std::to_string(npy_max_file_bytes(63)) + " bytes its array can take\n");
  // As --states: the limit is the largest array hamux reads.
  const std::string states = dir.path + "/states.npz";
  write_file_atomic(states, npz_declaring("input.npy", npy_bytes(Tensor<double>({1, 7}), false), tera));
  r = run_hamux("run " + quoted(kReadme) + " --states " + quoted(states), 60);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: " + states + ": member 'input.npy' declares 1099511627776 bytes, more than the " +
                       std::to_string(npy_max_file_bytes(frontend::kMaxElements)) + " bytes its array can take\n");
}

TEST(HostileCommandLine, HugeBatchIsRefusedBeforeAllocating) {
  // 10^15 samples of readme.json (float32; x and xhat of 24 elements, and the energy):
  // 196 bytes each.
  const double memory = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  char shown[32];
  std::snprintf(shown, sizeof shown, "%.3g GB", memory / 1e9);
  for (const char* command : {"run", "energy"})
    for (const char* init : {"", " --init normal:1"}) {
      const auto r = run_hamux(std::string(command) + " " + quoted(kReadme) + " --batch 1000000000000000" + init, 60);
      EXPECT_EQ(r.status, 1) << command << init;
      EXPECT_EQ(r.err, "error: batch: a batch of 1000000000000000 needs 1.96e+08 GB for its states, more than "
                       "this machine's " + std::string(shown) + " of memory\n")
          << command << init;
    }
}

// Old outputs of `hamux run` (a states file and a plot) in `dir`, and their bytes.
std::map<std::string, std::string> old_outputs(const std::string& dir) {
  std::map<std::string, std::string> files = {{dir + "/out.npz", "old states"}, {dir + "/plot.svg", "old plot"}};
  for (const auto& [path, bytes] : files) write_file_atomic(path, bytes);
  return files;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(HostileCommandLine, FullDeviceInTheOutputSetChangesNoOtherOutput) {
  // /dev/full as --trace fails with ENOSPC after the other outputs were written to their
  // temporary files and before any was renamed: none of them changes, none is left behind.
  ScratchDir dir;
  const auto old = old_outputs(dir.path);
  const auto r = run_hamux("run " + quoted(kReadme) + " --steps 2 --out " + quoted(dir.path + "/out.npz") +
                           " --plot " + quoted(dir.path + "/plot.svg") + " --trace /dev/full");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "error: /dev/full: write failed: No space left on device\n");
  for (const auto& [path, bytes] : old) EXPECT_EQ(slurp(path), bytes) << path;
  EXPECT_EQ(names_in(dir.path), (std::vector<std::string>{"out.npz", "plot.svg"}));
}

TEST(HostileCommandLine, FullFilesystemChangesNoOutputOfTheSet) {
  // A real full disk: a 256 KiB tmpfs filled up, in a mount namespace of its own (so the
  // mount goes away with the shell). Needs root or user namespaces; skipped without.
  if (std::system("unshare -m true >/dev/null 2>&1") != 0 &&
      std::system("unshare -rm true >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no mount namespace (unshare -m) on this machine";
  ScratchDir dir;
  const std::string full = dir.path + "/full", script = dir.path + "/full.sh";
  std::filesystem::create_directory(full);
  // In the namespace: mount, put the old outputs there, fill the rest, run, then copy what
  // is there afterwards out to dir/after (the mount is gone once the shell exits).
  write_file_atomic(script, "set -e\nmount -t tmpfs -o size=256k tmpfs " + quoted(full) +
                                "\nprintf 'old trace' > " + quoted(full + "/t.csv") + "\nprintf 'old states' > " +
                                quoted(full + "/a.npz") + "\ndd if=/dev/zero of=" + quoted(full + "/fill") +
                                " bs=4096 2>/dev/null || true\nset +e\n'" + HAMUX_BINARY + "' run " + quoted(kReadme) +
                                " --steps 2 --out " + quoted(full + "/a.npz") + " --trace " +
                                quoted(full + "/t.csv") + " 2> " + quoted(dir.path + "/err") +
                                "\necho $? > " + quoted(dir.path + "/status") + "\nrm " + quoted(full + "/fill") +
                                "\ncp -r " + quoted(full) + " " + quoted(dir.path + "/after") + "\n");
  int raw = std::system(("unshare -m sh " + quoted(script) + " >/dev/null 2>&1").c_str());
  if (raw != 0) raw = std::system(("unshare -rm sh " + quoted(script) + " >/dev/null 2>&1").c_str());
  if (raw != 0 || !std::filesystem::exists(dir.path + "/after")) GTEST_SKIP() << "cannot mount a tmpfs here";
  EXPECT_EQ(slurp(dir.path + "/status"), "1\n");
  EXPECT_EQ(slurp(dir.path + "/err"), "error: " + full + "/t.csv: write failed: No space left on device\n");
  EXPECT_EQ(slurp(dir.path + "/after/a.npz"), "old states");
  EXPECT_EQ(slurp(dir.path + "/after/t.csv"), "old trace");
  EXPECT_EQ(names_in(dir.path + "/after"), (std::vector<std::string>{"a.npz", "t.csv"}));
}

}  // namespace
}  // namespace hamux
