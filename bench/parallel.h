// bench/parallel.h - a fixed team of threads that runs one job on contiguous batch slices.
//
// The benchmark runs kernels on 1 and 2 threads the way an application would: the batch
// is split into contiguous slices, one per thread, and every engine gets the same split.
// The threads are started once (not per measured iteration), so thread start-up and the
// per-thread workspaces the JIT kernels allocate on first use stay out of the timings.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hamux::bench {

class Team {
 public:
  explicit Team(int threads) : n_(threads) {
    for (int t = 1; t < n_; ++t) workers_.emplace_back([this, t] { work(t); });
  }
  ~Team() {
    {
      std::lock_guard<std::mutex> l(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& w : workers_) w.join();
  }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int size() const { return n_; }

  // Calls job(begin, end) for n contiguous slices of [0, batch) (fewer when batch < n),
  // slice 0 on the calling thread; returns when all are done.
  void run(int64_t batch, const std::function<void(int64_t, int64_t)>& job) {
    const int used = static_cast<int>(std::min<int64_t>(n_, batch));
    {
      std::lock_guard<std::mutex> l(m_);
      job_ = &job;
      batch_ = batch;
      used_ = used;
      pending_ = used - 1;
      ++generation_;
    }
    cv_.notify_all();
    slice(0);
    std::unique_lock<std::mutex> l(m_);
    done_.wait(l, [this] { return pending_ == 0; });
  }

 private:
  void slice(int t) {
    const int64_t b0 = batch_ * t / used_, b1 = batch_ * (t + 1) / used_;
    (*job_)(b0, b1);
  }
  void work(int t) {
    uint64_t seen = 0;
    while (true) {
      std::unique_lock<std::mutex> l(m_);
      cv_.wait(l, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (t >= used_) continue;
      l.unlock();
      slice(t);
      l.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_, done_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t batch_ = 0;
  int used_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace hamux::bench
