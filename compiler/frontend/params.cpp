// compiler/frontend/params.cpp - parameter shapes and initialisers.
#include "frontend/params.h"

#include <filesystem>

#include "frontend/npy.h"
#include "frontend/random.h"

namespace hamux::frontend {

namespace {

// Reads `key` of the init's argument object as a number, or returns `fallback`.
double number_arg(const Ctx& ctx, const Json& args, const std::string& ptr, const char* key,
                  double fallback) {
  auto it = args.find(key);
  return it == args.end() ? fallback : get_number(ctx, *it, ptr_key(ptr, key));
}

void init_param(const Ctx& ctx, ParamDef& p, const Json& init, const std::string& ptr,
                const std::string& base_dir, uint64_t seed) {
  expect_object(ctx, init, ptr);
  if (init.size() != 1)
    ctx.fail(ptr, "expected exactly one initialiser (zeros, ones, constant, normal, uniform, file), got " +
                      std::to_string(init.size()));
  const std::string kind = init.begin().key();
  const Json& args = init.begin().value();
  const std::string aptr = ptr_key(ptr, kind);
  if (kind != "zeros" && kind != "ones" && kind != "constant" && kind != "normal" &&
      kind != "uniform" && kind != "file")
    ctx.fail(aptr, "unknown initialiser \"" + kind +
                       "\" (expected zeros, ones, constant, normal, uniform or file)");
  expect_object(ctx, args, aptr);

  if (kind == "zeros" || kind == "ones") {
    check_keys(ctx, args, aptr, {});
    p.value = Tensor<double>(p.shape, kind == "ones" ? 1.0 : 0.0);
    p.init = kind;
  } else if (kind == "constant") {
    check_keys(ctx, args, aptr, {"value"});
    double v = get_number(ctx, require(ctx, args, aptr, "value"), ptr_key(aptr, "value"));
    p.value = Tensor<double>(p.shape, v);
    p.init = "constant(value=" + fmt_number(v) + ")";
  } else if (kind == "normal") {
    check_keys(ctx, args, aptr, {"std", "mean"});
    double std = number_arg(ctx, args, aptr, "std", 1.0);
    double mean = number_arg(ctx, args, aptr, "mean", 0.0);
    if (std < 0) ctx.fail(ptr_key(aptr, "std"), "std must be >= 0, got " + fmt_number(std));
    Rng rng(seed, p.name);
    p.value = Tensor<double>(p.shape);
    for (double& v : p.value.data) v = mean + std * rng.normal();
    p.init = "normal(std=" + fmt_number(std) + (mean != 0 ? ", mean=" + fmt_number(mean) : "") + ")";
  } else if (kind == "uniform") {
    check_keys(ctx, args, aptr, {"low", "high"});
    double low = number_arg(ctx, args, aptr, "low", 0.0);
    double high = number_arg(ctx, args, aptr, "high", 1.0);
    if (!(low <= high))
      ctx.fail(aptr, "low (" + fmt_number(low) + ") must not exceed high (" + fmt_number(high) + ")");
    Rng rng(seed, p.name);
    p.value = Tensor<double>(p.shape);
    for (double& v : p.value.data) v = low + (high - low) * rng.uniform();
    p.init = "uniform(low=" + fmt_number(low) + ", high=" + fmt_number(high) + ")";
  } else {  // file
    check_keys(ctx, args, aptr, {"path"});
    std::string rel = get_string(ctx, require(ctx, args, aptr, "path"), ptr_key(aptr, "path"));
    if (rel.empty()) ctx.fail(ptr_key(aptr, "path"), "empty path");
    std::filesystem::path full = std::filesystem::path(rel).is_absolute() || base_dir.empty()
                                     ? std::filesystem::path(rel)
                                     : std::filesystem::path(base_dir) / rel;
    std::error_code ec;
    if (std::filesystem::is_directory(full, ec)) ctx.fail(aptr, rel + ": is a directory");
    try {
      p.value = read_npy(full.string(), num_elements(p.shape));
    } catch (const Error& e) {
      // The reader names the full path; the user wrote the relative one.
      ctx.fail(aptr, rel + ": " + e.cause());
    }
    if (p.value.shape != p.shape)
      ctx.fail(aptr, rel + ": shape " + shape_str(p.value.shape) + " does not match the param shape " +
                         shape_str(p.shape));
    if (const std::string bad = non_finite_element(p.value); !bad.empty())
      ctx.fail(aptr, rel + ": " + bad + " (param values must be finite)");
    p.init = "file(" + rel + ")";
  }
}

}  // namespace

std::vector<ParamDef> parse_params(const Ctx& ctx, const Json& params, const std::string& base_dir,
                                   uint64_t seed) {
  expect_object(ctx, params, "/params");
  std::vector<ParamDef> out;
  int64_t total = 0;
  for (auto it = params.begin(); it != params.end(); ++it) {
    const std::string ptr = ptr_key("/params", it.key());
    if (!is_identifier(it.key()))
      ctx.fail(ptr, "invalid name \"" + it.key() +
                        "\" (names are letters, digits and _, not starting with a digit)");
    const Json& def = expect_object(ctx, it.value(), ptr);
    check_keys(ctx, def, ptr, {"shape", "init"});
    ParamDef p;
    p.name = it.key();
    p.shape = get_shape(ctx, require(ctx, def, ptr, "shape"), ptr_key(ptr, "shape"));
    total += num_elements(p.shape);
    if (total > kMaxElements)
      ctx.fail(ptr_key(ptr, "shape"), "the params have more than " + std::to_string(kMaxElements) +
                                          " elements in total");
    init_param(ctx, p, require(ctx, def, ptr, "init"), ptr_key(ptr, "init"), base_dir, seed);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace hamux::frontend
