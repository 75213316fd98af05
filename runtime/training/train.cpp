// runtime/training/train.cpp - the training loop, evaluation and checkpoints (hamux/training.h).
//
// One epoch: the samples in the order of a permutation drawn from (seed, epoch), cut into
// batches; per batch, states from zeros with the feeds set (and clamped), one gradients()
// call, one optimiser step in the model's dtype on the kernels' own param arrays (the Ham's
// float64 copy of the params is brought up to date before anything reads it: outputs, the
// epoch callback, the end). Nothing depends on the thread count or on the wall clock, and a
// checkpoint holds everything the rest of the run depends on (params, moments, the
// position in the epoch and the epoch's running sums), so a resumed run is bit-identical.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "frontend/json_util.h"
#include "frontend/loss.h"
#include "frontend/random.h"
#include "hamux/io.h"
#include "hamux/training.h"
#include "ham_impl.h"
#include "plot.h"
#include "thread_pool.h"
#include "training/optimizer.h"

namespace hamux {

namespace {

using Vecs = std::map<std::string, std::vector<double>>;
constexpr double kCheckpointVersion = 1;

std::string fmt(double v) { return std::isnan(v) ? "nan" : frontend::fmt_number(v); }

// What the options mean for this Ham, checked once.
struct Plan {
  LossSpec loss;
  std::vector<int> feed_neurons;
  int64_t loss_elements = 0;
  bool classes = false;  // the target array holds class indices (decided per data set)
};

Plan make_plan(const Ham& ham, const TrainOptions& o) {
  Plan p;
  if (o.feeds.empty()) throw Error("training", "no feeds: name at least one array that gives a neuron its state");
  for (const Feed& f : o.feeds) p.feed_neurons.push_back(ham.neuron_index(f.neuron));
  p.loss = parse_loss(ham.model(), o.loss, "loss");
  if (o.target.empty()) throw Error("training", "no target: name the array holding the loss's targets");
  p.loss_elements = num_elements(ham.neurons()[p.loss.neuron].shape);
  if (o.batch < 1) throw Error("training", "batch must be >= 1, got " + std::to_string(o.batch));
  if (o.epochs < 0) throw Error("training", "epochs must be >= 0, got " + std::to_string(o.epochs));
  training::check_optimizer(o.optimizer);
  return p;
}

std::string array_place(const Dataset& d, const std::string& array) {
  auto f = d.files.find(array);
  return d.name + ": array '" + array + "'" + (f == d.files.end() ? "" : " (" + f->second + ")");
}

const Tensor<double>& need_array(const Dataset& d, const std::string& array) {
  auto it = d.arrays.find(array);
  if (it == d.arrays.end()) {
    std::string have;
    for (const auto& [k, v] : d.arrays) have += (have.empty() ? "" : ", ") + k;
    throw Error(d.name, "no array '" + array + "' (it has: " + (have.empty() ? "none" : have) + ")");
  }
  return it->second;
}

Shape sample_shape(const Tensor<double>& t) { return Shape(t.shape.begin() + 1, t.shape.end()); }

void check_finite(const Dataset& d, const std::string& array, const Tensor<double>& t) {
  const int64_t per = std::max<int64_t>(1, num_elements(sample_shape(t)));
  for (int64_t i = 0; i < t.size(); ++i)
    if (!std::isfinite(t.data[i]))
      throw Error(array_place(d, array), "sample " + std::to_string(i / per) + ", element " +
                                             std::to_string(i % per) + " is " + fmt(t.data[i]));
}

// Every array the options read, against the model: before anything is trained. Returns
// whether the target holds class indices.
bool check_data(const Ham& ham, const Dataset& d, const TrainOptions& o, const Plan& p) {
  if (d.size() == 0) throw Error(d.name, "has no samples");
  for (size_t i = 0; i < o.feeds.size(); ++i) {
    const Tensor<double>& t = need_array(d, o.feeds[i].array);
    const NeuronInfo& n = ham.neurons()[p.feed_neurons[i]];
    if (sample_shape(t) != n.shape)
      throw Error(array_place(d, o.feeds[i].array), "samples of shape " + shape_str(sample_shape(t)) +
                                                        " do not fit neuron '" + n.name + "' of shape " +
                                                        shape_str(n.shape));
    check_finite(d, o.feeds[i].array, t);
  }
  const NeuronInfo& ln = ham.neurons()[p.loss.neuron];
  const Tensor<double>& t = need_array(d, o.target);
  const bool classes = p.loss.class_targets && t.shape.size() == 1 && ln.shape != Shape{};
  if (classes) {
    for (int64_t s = 0; s < t.size(); ++s) {
      const double c = t.data[s];
      if (!std::isfinite(c) || c != std::floor(c))
        throw Error(array_place(d, o.target), "sample " + std::to_string(s) + ": class index " + fmt(c) +
                                                  " is not an integer");
      if (c < 0 || c >= static_cast<double>(p.loss_elements))
        throw Error(array_place(d, o.target),
                    "sample " + std::to_string(s) + ": class index " + fmt(c) + " is out of range for neuron '" +
                        ln.name + "' (" + std::to_string(p.loss_elements) + " elements: 0 to " +
                        std::to_string(p.loss_elements - 1) + ")");
    }
  } else {
    if (sample_shape(t) != ln.shape)
      throw Error(array_place(d, o.target), "targets of shape " + shape_str(sample_shape(t)) + " do not fit neuron '" +
                                                ln.name + "' of shape " + shape_str(ln.shape) +
                                                (p.loss.class_targets ? " (nor are they class indices [N])" : ""));
    check_finite(d, o.target, t);
  }
  if (!o.mask.empty()) {
    const Tensor<double>& m = need_array(d, o.mask);
    if (sample_shape(m) != ln.shape)
      throw Error(array_place(d, o.mask), "masks of shape " + shape_str(sample_shape(m)) + " do not fit neuron '" +
                                              ln.name + "' of shape " + shape_str(ln.shape));
    check_finite(d, o.mask, m);
  }
  return classes;
}

// The rows `index` of an array, [index.size(), ...sample shape].
Tensor<double> gather(const Tensor<double>& t, const int64_t* index, int64_t count) {
  Shape s = t.shape;
  s[0] = count;
  const int64_t per = num_elements(sample_shape(t));
  std::vector<double> rows;
  rows.reserve(count * per);  // filled by the copies, not zeroed first
  for (int64_t b = 0; b < count; ++b)
    rows.insert(rows.end(), t.data.begin() + index[b] * per, t.data.begin() + (index[b] + 1) * per);
  return Tensor<double>(std::move(s), std::move(rows));
}

struct BatchResult {
  GradientResult g;
  double loss_sum = 0;
  int64_t correct = 0;
};

// One batch: the forward run (and, with options.dynamics.backward, the gradients).
BatchResult run_batch(const Ham& ham, const Dataset& d, const TrainOptions& o, const Plan& p, bool classes,
                      const int64_t* index, int64_t count, bool backward) {
  States s = ham.zeros(count);
  for (size_t i = 0; i < o.feeds.size(); ++i) {
    const std::string& neuron = ham.neurons()[p.feed_neurons[i]].name;
    s.set(neuron, gather(d.arrays.at(o.feeds[i].array), index, count));
    if (o.feeds[i].clamp) s.clamp(neuron);
  }
  Loss loss;
  loss.spec = o.loss;
  loss.target = gather(d.arrays.at(o.target), index, count);
  if (!o.mask.empty()) loss.mask = gather(d.arrays.at(o.mask), index, count);
  GradientOptions g = o.dynamics;
  g.backward = backward;
  BatchResult r;
  r.g = gradients(ham, s, loss, g);
  for (double v : r.g.loss_per_sample) r.loss_sum += v;
  if (classes) {
    const int64_t e = p.loss_elements;
    for (int64_t b = 0; b < count; ++b) {
      const double* y = r.g.output.data.data() + b * e;
      if (std::max_element(y, y + e) - y == static_cast<int64_t>(loss.target.data[b])) ++r.correct;
    }
  }
  return r;
}

// The order of the samples in epoch `epoch` (0-based): Fisher-Yates on our own generator,
// the same on every platform.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  if (!shuffle) return order;
  frontend::Rng rng(seed, "shuffle:epoch " + std::to_string(epoch));
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.next_u64() % static_cast<uint64_t>(i + 1)]);
  return order;
}

// ---- checkpoints ----

// Where the run is: what a checkpoint records besides params and moments.
struct Position {
  int64_t epoch = 0;    // 0-based epoch in progress
  int64_t batches = 0;  // batches of it done
  int64_t steps = 0;    // optimiser steps in all
  double loss_sum = 0, correct = 0, counted = 0, norm_sum = 0, seconds = 0;  // the epoch's running sums
  double lr = 0;        // of the last step
};

// The numbers a resumed run must share with the run that wrote the checkpoint.
std::vector<double> fingerprint(const TrainOptions& o, int64_t samples) {
  const double kind = o.optimizer.name == "sgd" ? 0 : o.optimizer.name == "adam" ? 1 : 2;
  return {static_cast<double>(samples), static_cast<double>(o.batch), static_cast<double>(o.seed >> 32),
          static_cast<double>(o.seed & 0xffffffffu), kind, o.shuffle ? 1.0 : 0.0};
}

constexpr int kLogColumns = 8;

std::vector<double> log_row(const EpochStats& e) {
  return {static_cast<double>(e.epoch), e.train_loss, e.train_accuracy, e.validation_loss,
          e.validation_accuracy, e.lr, e.grad_norm, e.seconds};
}

EpochStats from_row(const double* r) {
  EpochStats e;
  e.epoch = static_cast<int64_t>(r[0]);
  e.train_loss = r[1], e.train_accuracy = r[2], e.validation_loss = r[3], e.validation_accuracy = r[4];
  e.lr = r[5], e.grad_norm = r[6], e.seconds = r[7];
  return e;
}

std::string csv_number(double v, bool present) {
  if (!present) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string log_csv(const std::vector<EpochStats>& rows) {
  std::string s = "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,lr,grad_norm,seconds\n";
  for (const EpochStats& e : rows)
    s += std::to_string(e.epoch) + "," + csv_number(e.train_loss, true) + "," +
         csv_number(e.train_accuracy, e.train_accuracy >= 0) + "," +
         csv_number(e.validation_loss, e.validation_loss >= 0) + "," +
         csv_number(e.validation_accuracy, e.validation_accuracy >= 0) + "," + csv_number(e.lr, true) + "," +
         csv_number(e.grad_norm, true) + "," + csv_number(e.seconds, true) + "\n";
  return s;
}

std::string curves_svg(const std::vector<EpochStats>& rows, const std::string& title, bool accuracy) {
  Plot plot{title, "epoch", accuracy ? "accuracy" : "loss", {}, true};
  PlotSeries train{accuracy ? "train accuracy" : "train loss", {}, {}};
  PlotSeries val{accuracy ? "validation accuracy" : "validation loss", {}, {}};
  for (const EpochStats& e : rows) {
    const double t = accuracy ? e.train_accuracy : e.train_loss, v = accuracy ? e.validation_accuracy : e.validation_loss;
    train.x.push_back(static_cast<double>(e.epoch));
    train.y.push_back(t >= 0 ? t : NAN);
    val.x.push_back(static_cast<double>(e.epoch));
    val.y.push_back(v >= 0 ? v : NAN);
  }
  plot.series.push_back(train);
  if (!rows.empty() && (accuracy ? rows[0].validation_accuracy : rows[0].validation_loss) >= 0) plot.series.push_back(val);
  return line_plot_svg(plot);
}

Tensor<double> vec_tensor(const std::vector<double>& v) {
  Tensor<double> t(Shape{static_cast<int64_t>(v.size())});
  t.data = v;
  return t;
}

class Trainer {
 public:
  Trainer(Ham& ham, const Dataset& data, const Dataset* validation, const TrainOptions& o)
      : ham_(ham), data_(data), validation_(validation), o_(o), plan_(make_plan(ham, o)) {
    classes_ = check_data(ham, data, o, plan_);
    if (validation_) check_data(ham, *validation_, o, plan_);
    names_ = ham.param_names();
    if (names_.empty()) throw Error(ham.name(), "the model has no params to train");
    std::vector<int64_t> sizes;
    for (const ParamDef& p : ham.model().params) sizes.push_back(num_elements(p.shape));
    if (ham.is_float64()) opt64_ = std::make_unique<training::OptimizerState<double>>(o.optimizer, sizes);
    else opt32_ = std::make_unique<training::OptimizerState<float>>(o.optimizer, sizes);
    batches_per_epoch_ = (data.size() + o.batch - 1) / o.batch;
    if (!o.out_dir.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(o.out_dir, ec);
      if (ec) throw Error(o.out_dir, "cannot create the output folder: " + ec.message());
    }
    if (o.resume) resume();
  }

  TrainReport run() {
    TrainReport report;
    const int64_t total_steps = batches_per_epoch_ * o_.epochs;
    const auto session_start = std::chrono::steady_clock::now();
    int64_t session_samples = 0;
    while (pos_.epoch < o_.epochs) {
      const std::vector<int64_t> order = epoch_order(data_.size(), o_.seed, pos_.epoch, o_.shuffle);
      const auto epoch_start = std::chrono::steady_clock::now();
      const double seconds_before = pos_.seconds;
      while (pos_.batches < batches_per_epoch_) {
        const int64_t begin = pos_.batches * o_.batch, count = std::min(o_.batch, data_.size() - begin);
        BatchResult b;
        try {
          b = run_batch(ham_, data_, o_, plan_, classes_, order.data() + begin, count, true);
        } catch (const Error& e) {
          // Which batch: the sample numbers in the message count within it. The last
          // checkpoint (the previous epoch's) is untouched.
          throw Error("training: epoch " + std::to_string(pos_.epoch + 1) + ", batch " +
                          std::to_string(pos_.batches + 1) + " (samples " + std::to_string(begin) + " to " +
                          std::to_string(begin + count - 1) + " of the epoch's order)",
                      e.what());
        }
        pos_.lr = training::learning_rate(o_.optimizer, pos_.steps, total_steps);
        pos_.norm_sum += opt32_ ? step(*opt32_, b.g) : step(*opt64_, b.g);
        ++pos_.steps;
        pos_.loss_sum += b.loss_sum;
        pos_.correct += static_cast<double>(b.correct);
        pos_.counted += static_cast<double>(count);
        ++pos_.batches;
        session_samples += count;
        pos_.seconds = seconds_before + seconds_since(epoch_start);
        if (o_.progress) report_progress(session_samples, seconds_since(session_start));
        if (o_.stop && o_.stop->load()) {  // a checkpoint mid-epoch; the rest runs on resume
          publish_params();
          write_outputs(false);
          report.epochs = log_;
          report.steps = pos_.steps;
          report.interrupted = true;
          return report;
        }
      }
      EpochStats e;
      e.epoch = pos_.epoch + 1;
      e.train_loss = pos_.loss_sum / pos_.counted;
      e.train_accuracy = classes_ ? pos_.correct / pos_.counted : -1;
      if (validation_) {
        const EvalResult v = evaluate(ham_, *validation_, o_);
        e.validation_loss = v.loss;
        e.validation_accuracy = v.accuracy;
      }
      e.lr = pos_.lr;
      e.grad_norm = pos_.norm_sum / static_cast<double>(batches_per_epoch_);
      e.seconds = seconds_before + seconds_since(epoch_start);
      log_.push_back(e);
      Position next;
      next.epoch = pos_.epoch + 1;
      next.steps = pos_.steps;
      pos_ = next;
      publish_params();
      write_outputs(true);
      wrote_epoch_ = true;
      if (o_.on_epoch) o_.on_epoch(e);
    }
    // A run that ended no epoch (epochs 0, or resumed after the last) still leaves its
    // params and checkpoint: `hamux train --epochs 0` writes the init.
    publish_params();
    if (!wrote_epoch_) write_outputs(true);
    report.epochs = log_;
    report.steps = pos_.steps;
    return report;
  }

  // The Ham's float64 params (Ham::param, save_params, the interpreter) from the kernels'
  // arrays, which the optimiser updates in place.
  void publish_params() {
    Ham::Impl& h = RunAccess::ham(ham_);
    for (size_t k = 0; k < names_.size(); ++k) {
      std::vector<double>& value = h.model.params[k].value.data;
      if (opt32_) value.assign(h.params32[k].begin(), h.params32[k].end());
      else value.assign(h.params64[k].begin(), h.params64[k].end());
    }
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  void report_progress(int64_t session_samples, double session_seconds) const {
    TrainProgress pr;
    pr.epoch = pos_.epoch + 1;
    pr.epochs = o_.epochs;
    pr.samples = static_cast<int64_t>(pos_.counted);
    pr.epoch_samples = data_.size();
    pr.loss = pos_.loss_sum / pos_.counted;
    pr.accuracy = classes_ ? pos_.correct / pos_.counted : -1;
    pr.samples_per_second = session_seconds > 0 ? static_cast<double>(session_samples) / session_seconds : 0;
    const double left = static_cast<double>((o_.epochs - pos_.epoch) * data_.size()) - pos_.counted;
    pr.seconds_left = pr.samples_per_second > 0 ? left / pr.samples_per_second : 0;
    o_.progress(pr);
  }

  // The param arrays the kernels read, in model order: what the optimiser updates.
  template <class T>
  std::vector<std::vector<T>>& kernel_params() {
    Ham::Impl& h = RunAccess::ham(ham_);
    if constexpr (sizeof(T) == 8) return h.params64;
    else return h.params32;
  }

  template <class T>
  double step(training::OptimizerState<T>& opt, GradientResult& g) {
    std::vector<std::vector<T>>& values = kernel_params<T>();
    std::vector<training::ParamSlot<T>> slots;
    for (size_t k = 0; k < names_.size(); ++k) {
      const Tensor<double>& grad = g.params.at(names_[k]);
      slots.push_back({names_[k], values[k].data(), grad.data.data(), grad.size()});
    }
    // The pool the gradient call just gave back, when the thread counts agree.
    const std::shared_ptr<ThreadPool> pool =
        PoolCache::take(RunAccess::ham(ham_).pools, std::max(resolve_threads(o_.dynamics.threads), 1));
    return opt.step(slots, pos_.lr, pool.get());
  }

  template <class T>
  void add_moments(const training::OptimizerState<T>& opt, std::map<std::string, Tensor<double>>& ck) const {
    for (size_t k = 0; k < names_.size(); ++k) {
      ck["m." + names_[k]] = vec_tensor({opt.m()[k].begin(), opt.m()[k].end()});
      if (!opt.v()[k].empty()) ck["v." + names_[k]] = vec_tensor({opt.v()[k].begin(), opt.v()[k].end()});
    }
  }

  std::string path(const char* file) const { return (std::filesystem::path(o_.out_dir) / file).string(); }

  // The checkpoint (always) and, at the end of an epoch, params.npz, log.csv and the curves:
  // one atomic set, so a crash leaves the previous epoch's files, all of them.
  void write_outputs(bool epoch_end) {
    if (o_.out_dir.empty()) return;
    std::map<std::string, Tensor<double>> ck;
    for (const std::string& name : names_) ck["param." + name] = ham_.param(name);
    if (opt32_) add_moments(*opt32_, ck);
    else add_moments(*opt64_, ck);
    ck["position"] = vec_tensor({kCheckpointVersion, static_cast<double>(pos_.epoch), static_cast<double>(pos_.batches),
                                 static_cast<double>(pos_.steps), pos_.loss_sum, pos_.correct, pos_.counted,
                                 pos_.norm_sum, pos_.seconds, pos_.lr});
    ck["fingerprint"] = vec_tensor(fingerprint(o_, data_.size()));
    Tensor<double> log(Shape{static_cast<int64_t>(log_.size()), kLogColumns});
    for (size_t r = 0; r < log_.size(); ++r) {
      const std::vector<double> row = log_row(log_[r]);
      std::copy(row.begin(), row.end(), log.data.begin() + static_cast<int64_t>(r) * kLogColumns);
    }
    ck["log"] = log;
    std::vector<std::pair<std::string, std::string>> files{npz_file(path("checkpoint.npz"), ck, true)};
    if (epoch_end) {
      std::map<std::string, Tensor<double>> params;
      for (const std::string& name : ham_.param_names()) params[name] = ham_.param(name);
      files.push_back(npz_file(path("params.npz"), params, ham_.is_float64()));
      files.emplace_back(path("log.csv"), log_csv(log_));
      files.emplace_back(path("curves.svg"), curves_svg(log_, ham_.name() + ": loss", false));
      if (classes_) files.emplace_back(path("accuracy.svg"), curves_svg(log_, ham_.name() + ": accuracy", true));
    }
    write_files_atomic(files);
  }

  // Moments read from a checkpoint (float64 arrays; a float32 run's values round exactly).
  template <class T>
  void restore(training::OptimizerState<T>& opt, const Vecs& m, const Vecs& v) {
    std::vector<std::vector<T>> mt, vt;
    for (const std::string& name : names_) {
      const std::vector<double>& mv = m.at(name);
      mt.emplace_back(mv.begin(), mv.end());
      vt.emplace_back();
      if (auto it = v.find(name); it != v.end()) vt.back().assign(it->second.begin(), it->second.end());
    }
    opt.restore(pos_.steps, std::move(mt), std::move(vt));
  }

  void resume() {
    if (o_.out_dir.empty()) throw Error("training", "resume needs an output folder (out_dir) holding checkpoint.npz");
    const std::string file = path("checkpoint.npz");
    if (!std::filesystem::exists(file)) throw Error(file, "no checkpoint to resume from");
    NpzLimits limits;
    limits.max_elements = [](const std::string&) { return frontend::kMaxElements; };
    std::map<std::string, Tensor<double>> ck = read_npz(file, limits);
    auto get = [&](const std::string& key) -> const Tensor<double>& {
      auto it = ck.find(key);
      if (it == ck.end()) throw Error(file, "not a hamux training checkpoint (no array '" + key + "')");
      return it->second;
    };
    const Tensor<double>& p = get("position");
    if (p.size() != 10 || p.data[0] != kCheckpointVersion)
      throw Error(file, "not a checkpoint of this hamux version (position array of " + std::to_string(p.size()) +
                            " values)");
    if (get("fingerprint").data != fingerprint(o_, data_.size()))
      throw Error(file, "was written by a run with other data, batch, seed or optimizer; resume with the same "
                        "training file and data");
    // Every array's size is checked before anything changes: a bad checkpoint leaves the Ham
    // as it was.
    for (const std::string& name : names_) {
      const int64_t size = ham_.param(name).size();
      for (const std::string& key : {"param." + name, "m." + name, "v." + name}) {
        if (key[0] == 'v' && o_.optimizer.name == "sgd") continue;
        if (get(key).size() != size)
          throw Error(file, "array '" + key + "' has " + std::to_string(get(key).size()) + " values, param '" + name +
                                "' " + std::to_string(size));
      }
    }
    Vecs m, v;
    for (const std::string& name : names_) {
      ham_.set_param(name, Tensor<double>(ham_.param(name).shape, get("param." + name).data));
      m[name] = get("m." + name).data;
      if (o_.optimizer.name != "sgd") v[name] = get("v." + name).data;
    }
    pos_.epoch = static_cast<int64_t>(p.data[1]);
    pos_.batches = static_cast<int64_t>(p.data[2]);
    pos_.steps = static_cast<int64_t>(p.data[3]);
    pos_.loss_sum = p.data[4], pos_.correct = p.data[5], pos_.counted = p.data[6], pos_.norm_sum = p.data[7];
    pos_.seconds = p.data[8];
    pos_.lr = p.data[9];
    if (opt32_) restore(*opt32_, m, v);
    else restore(*opt64_, m, v);
    const Tensor<double>& log = get("log");
    for (int64_t r = 0; log.shape.size() == 2 && r < log.shape[0]; ++r) log_.push_back(from_row(&log.data[r * kLogColumns]));
  }

  Ham& ham_;
  const Dataset& data_;
  const Dataset* validation_;
  const TrainOptions& o_;
  Plan plan_;
  bool classes_ = false;
  std::vector<std::string> names_;  // the params, in model order
  // The optimiser in the model's dtype (one of the two).
  std::unique_ptr<training::OptimizerState<float>> opt32_;
  std::unique_ptr<training::OptimizerState<double>> opt64_;
  int64_t batches_per_epoch_ = 0;
  Position pos_;
  std::vector<EpochStats> log_;
  bool wrote_epoch_ = false;
};

}  // namespace

TrainReport train(Ham& ham, const Dataset& data, const Dataset* validation, const TrainOptions& options) {
  Trainer trainer(ham, data, validation, options);
  try {
    return trainer.run();
  } catch (...) {
    trainer.publish_params();  // Ham::param shows what the kernels hold, also after an error
    throw;
  }
}

EvalResult evaluate(const Ham& ham, const Dataset& data, const TrainOptions& options) {
  const Plan plan = make_plan(ham, options);
  const bool classes = check_data(ham, data, options, plan);
  EvalResult r;
  r.samples = data.size();
  std::vector<int64_t> order(data.size());
  for (int64_t i = 0; i < data.size(); ++i) order[i] = i;
  double loss = 0, correct = 0;
  for (int64_t begin = 0; begin < data.size(); begin += options.batch) {
    const int64_t count = std::min(options.batch, data.size() - begin);
    const BatchResult b = run_batch(ham, data, options, plan, classes, order.data() + begin, count, false);
    loss += b.loss_sum;
    correct += static_cast<double>(b.correct);
  }
  r.loss = loss / static_cast<double>(r.samples);
  r.accuracy = classes ? correct / static_cast<double>(r.samples) : -1;
  return r;
}

}  // namespace hamux
