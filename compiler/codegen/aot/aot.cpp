// compiler/codegen/aot/aot.cpp - loop program -> self-contained object file for a chosen target.
#include "codegen/aot/aot.h"

#include <llvm/Object/ArchiveWriter.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/TargetParser/Triple.h>

#include <cctype>
#include <vector>

#include "codegen/llvm/object.h"
#include "codegen/llvm/target.h"
#include "hamux/error.h"

namespace hamux::codegen {

bool is_c_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::string c_identifier(const std::string& name) {
  std::string s;
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) s += '_';
  for (char c : name) s += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return s;
}

std::string compile_program_aot(const Program& program, const std::string& function, const AotOptions& options,
                                const std::function<void(llvm::Module&)>& extra, AotTargetInfo* info) {
  const Target target(TargetChoice{options.triple, options.cpu, options.vector_width}, "aot");
  if (info) *info = {target.triple(), target.cpu(), target.features()};
  ObjectOptions o;
  if (options.kernels_library) {
    // What the JIT's build_object does (jit.cpp), with the JIT's default conv crossover.
    o.emit.contractions = Contractions::kLibrary;
    o.vector_math = true;
  } else {
    o.emit.contractions = Contractions::kLoops;
    o.vector_math = false;  // the object needs nothing beyond libm
  }
  o.extra = extra;
  return compile_to_object(program, function, target, o);
}

std::string aot_archive(const std::string& object, const std::string& member, const std::string& triple_name) {
  const llvm::Triple triple(triple_name);
  std::vector<llvm::NewArchiveMember> members;
  members.emplace_back(llvm::MemoryBufferRef(object, member));
  auto kind = triple.isOSDarwin() ? llvm::object::Archive::K_DARWIN
              : triple.isOSWindows() ? llvm::object::Archive::K_COFF
                                     : llvm::object::Archive::K_GNU;
  auto buf = llvm::writeArchiveToBuffer(members, llvm::SymtabWritingMode::NormalSymtab, kind, true, false);
  if (!buf) throw Error("", "aot: cannot build the archive: " + llvm::toString(buf.takeError()));
  return std::string((*buf)->getBuffer());
}

}  // namespace hamux::codegen
