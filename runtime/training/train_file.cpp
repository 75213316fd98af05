// runtime/training/train_file.cpp - the training file: one JSON file that makes a run
// reproducible (hamux/training.h: TrainFile; the keys are in docs/training.md). Read as
// strictly as a model: wrong types and unknown keys are errors at their JSON pointer.
#include <filesystem>

#include "frontend/json_util.h"
#include "hamux/training.h"
#include "support/files.h"

namespace hamux {

namespace {

using frontend::Ctx;
using frontend::Json;
using frontend::ptr_index;
using frontend::ptr_key;

std::string resolve(const std::string& base, const std::string& file) {
  const std::filesystem::path p(file);
  return p.is_absolute() || base.empty() ? file : (std::filesystem::path(base) / p).string();
}

ArraySource array_source(const Ctx& c, const Json& j, const std::string& ptr, const std::string& base) {
  ArraySource a;
  if (j.is_string()) {
    a.file = resolve(base, j.get<std::string>());
    return a;
  }
  frontend::expect_object(c, j, ptr);
  frontend::check_keys(c, j, ptr, {"file", "member", "scale", "offset", "shape"});
  a.file = resolve(base, frontend::get_string(c, frontend::require(c, j, ptr, "file"), ptr_key(ptr, "file")));
  if (j.contains("member")) a.member = frontend::get_string(c, j["member"], ptr_key(ptr, "member"));
  if (j.contains("scale")) a.scale = frontend::get_number(c, j["scale"], ptr_key(ptr, "scale"));
  if (j.contains("offset")) a.offset = frontend::get_number(c, j["offset"], ptr_key(ptr, "offset"));
  if (j.contains("shape")) a.sample_shape = frontend::get_shape(c, j["shape"], ptr_key(ptr, "shape"));
  return a;
}

// A data set: {"array": SOURCE, ...}.
std::map<std::string, ArraySource> data_set(const Ctx& c, const Json& j, const std::string& ptr, const std::string& base) {
  frontend::expect_object(c, j, ptr);
  if (j.empty()) c.fail(ptr, "a data set needs at least one array");
  std::map<std::string, ArraySource> out;
  for (const auto& [name, v] : j.items()) out[name] = array_source(c, v, ptr_key(ptr, name), base);
  return out;
}

void dynamics(const Ctx& c, const Json& j, const std::string& ptr, GradientOptions& g) {
  frontend::expect_object(c, j, ptr);
  frontend::check_keys(c, j, ptr, {"steps", "dt", "tol", "method", "checkpoint_every", "store_residuals",
                                   "adjoint_tol", "adjoint_max_iterations"});
  if (j.contains("steps")) g.steps = frontend::get_int(c, j["steps"], ptr_key(ptr, "steps"));
  if (j.contains("dt")) g.dt = frontend::get_number(c, j["dt"], ptr_key(ptr, "dt"));
  if (j.contains("tol")) g.tol = frontend::get_number(c, j["tol"], ptr_key(ptr, "tol"));
  if (j.contains("checkpoint_every"))
    g.checkpoint_every = frontend::get_int(c, j["checkpoint_every"], ptr_key(ptr, "checkpoint_every"));
  if (j.contains("store_residuals"))
    g.store_residuals = frontend::get_bool(c, j["store_residuals"], ptr_key(ptr, "store_residuals"));
  if (j.contains("adjoint_tol")) g.adjoint_tol = frontend::get_number(c, j["adjoint_tol"], ptr_key(ptr, "adjoint_tol"));
  if (j.contains("adjoint_max_iterations"))
    g.adjoint_max_iterations =
        frontend::get_int(c, j["adjoint_max_iterations"], ptr_key(ptr, "adjoint_max_iterations"));
  if (j.contains("method")) {
    const std::string m = frontend::get_string(c, j["method"], ptr_key(ptr, "method"));
    if (m == "bptt") g.method = GradientMethod::Bptt;
    else if (m == "implicit") g.method = GradientMethod::Implicit;
    else c.fail(ptr_key(ptr, "method"), "expected \"bptt\" or \"implicit\", got \"" + m + "\"");
  }
}

void optimizer(const Ctx& c, const Json& j, const std::string& ptr, Optimizer& o) {
  frontend::expect_object(c, j, ptr);
  frontend::check_keys(c, j, ptr, {"name", "lr", "momentum", "nesterov", "beta1", "beta2", "eps", "weight_decay",
                                   "schedule", "warmup_steps", "min_lr", "clip_norm"});
  auto num = [&](const char* key, double& v) {
    if (j.contains(key)) v = frontend::get_number(c, j[key], ptr_key(ptr, key));
  };
  if (j.contains("name")) o.name = frontend::get_string(c, j["name"], ptr_key(ptr, "name"));
  if (j.contains("schedule")) o.schedule = frontend::get_string(c, j["schedule"], ptr_key(ptr, "schedule"));
  if (j.contains("nesterov")) o.nesterov = frontend::get_bool(c, j["nesterov"], ptr_key(ptr, "nesterov"));
  if (j.contains("warmup_steps")) o.warmup_steps = frontend::get_int(c, j["warmup_steps"], ptr_key(ptr, "warmup_steps"));
  num("lr", o.lr);
  num("momentum", o.momentum);
  num("beta1", o.beta1);
  num("beta2", o.beta2);
  num("eps", o.eps);
  num("weight_decay", o.weight_decay);
  num("min_lr", o.min_lr);
  num("clip_norm", o.clip_norm);
}

}  // namespace

TrainFile load_train_file(const std::string& path) {
  const Ctx c{path};
  const Json root = frontend::parse_json(read_regular_file(path, uint64_t{1} << 24, "a training file may take"), c);
  frontend::expect_object(c, root, "");
  frontend::check_keys(c, root, "", {"model", "data", "feeds", "loss", "target", "mask", "dynamics", "optimizer",
                                     "batch", "epochs", "seed", "shuffle", "threads", "out", "init_params"});
  const std::string base = std::filesystem::path(path).parent_path().string();
  TrainFile f;
  f.path = path;
  f.model = resolve(base, frontend::get_string(c, frontend::require(c, root, "", "model"), "/model"));

  const Json& data = frontend::require(c, root, "", "data");
  frontend::expect_object(c, data, "/data");
  frontend::check_keys(c, data, "/data", {"train", "validation", "test"});
  f.train = data_set(c, frontend::require(c, data, "/data", "train"), "/data/train", base);
  if (data.contains("validation")) {
    const Json& v = data["validation"];
    if (v.is_number()) {
      f.validation_split = frontend::get_number(c, v, "/data/validation");
      if (!(f.validation_split > 0 && f.validation_split < 1))
        c.fail("/data/validation", "a validation split must be a fraction in (0, 1), got " +
                                       frontend::fmt_number(f.validation_split));
    } else {
      f.validation = data_set(c, v, "/data/validation", base);
    }
  }
  if (data.contains("test")) f.test = data_set(c, data["test"], "/data/test", base);

  TrainOptions& o = f.options;
  const Json& feeds = frontend::expect_array(c, frontend::require(c, root, "", "feeds"), "/feeds");
  for (size_t i = 0; i < feeds.size(); ++i) {
    const std::string ptr = ptr_index("/feeds", i);
    frontend::expect_object(c, feeds[i], ptr);
    frontend::check_keys(c, feeds[i], ptr, {"array", "neuron", "clamp"});
    Feed feed;
    feed.array = frontend::get_string(c, frontend::require(c, feeds[i], ptr, "array"), ptr_key(ptr, "array"));
    feed.neuron = frontend::get_string(c, frontend::require(c, feeds[i], ptr, "neuron"), ptr_key(ptr, "neuron"));
    if (feeds[i].contains("clamp")) feed.clamp = frontend::get_bool(c, feeds[i]["clamp"], ptr_key(ptr, "clamp"));
    o.feeds.push_back(feed);
  }
  // The loss spec is kept as text: gradients() parses it against the model (docs/gradients.md).
  o.loss = frontend::expect_object(c, frontend::require(c, root, "", "loss"), "/loss").dump();
  o.target = frontend::get_string(c, frontend::require(c, root, "", "target"), "/target");
  if (root.contains("mask")) o.mask = frontend::get_string(c, root["mask"], "/mask");
  if (root.contains("dynamics")) dynamics(c, root["dynamics"], "/dynamics", o.dynamics);
  if (root.contains("optimizer")) optimizer(c, root["optimizer"], "/optimizer", o.optimizer);
  if (root.contains("batch")) o.batch = frontend::get_int(c, root["batch"], "/batch");
  if (root.contains("epochs")) o.epochs = frontend::get_int(c, root["epochs"], "/epochs");
  if (root.contains("seed")) {
    const int64_t seed = frontend::get_int(c, root["seed"], "/seed");
    if (seed < 0) c.fail("/seed", "must be >= 0, got " + std::to_string(seed));
    o.seed = static_cast<uint64_t>(seed);
  }
  if (root.contains("shuffle")) o.shuffle = frontend::get_bool(c, root["shuffle"], "/shuffle");
  if (root.contains("threads")) o.dynamics.threads = static_cast<int>(frontend::get_int(c, root["threads"], "/threads"));
  if (root.contains("init_params"))
    f.init_params = resolve(base, frontend::get_string(c, root["init_params"], "/init_params"));
  if (root.contains("out")) o.out_dir = resolve(base, frontend::get_string(c, root["out"], "/out"));
  if (o.batch < 1) c.fail("/batch", "must be >= 1, got " + std::to_string(o.batch));
  if (o.epochs < 0) c.fail("/epochs", "must be >= 0, got " + std::to_string(o.epochs));
  return f;
}

Dataset load_train_data(const TrainFile& f, const std::string& which) {
  if (which == "test") return load_dataset("test data", f.test);
  if (which == "validation" && !f.validation.empty()) return load_dataset("validation data", f.validation);
  if (which != "train" && which != "validation")
    throw Error(f.path, "no data set '" + which + "' (expected train, validation or test)");
  Dataset all = load_dataset("train data", f.train);
  if (f.validation_split <= 0) {
    if (which == "validation") return Dataset{"validation data", {}, {}};
    return all;
  }
  // The split: the last fraction of the train arrays, in file order.
  const int64_t n = all.size(), held = static_cast<int64_t>(static_cast<double>(n) * f.validation_split);
  if (held < 1 || held >= n)
    throw Error(f.path, "a validation split of " + frontend::fmt_number(f.validation_split) + " of " +
                            std::to_string(n) + " samples leaves " + std::to_string(held) +
                            " for validation and " + std::to_string(n - held) + " for training");
  if (which == "validation") return all.slice(n - held, n, "validation data");
  return all.slice(0, n - held, "train data");
}

}  // namespace hamux
