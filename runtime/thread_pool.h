// runtime/thread_pool.h - a fixed set of threads that run numbered tasks in parallel.
//
// The runtime splits a batch into one contiguous slice per thread; every slice is an
// independent task, so the result does not depend on which thread runs which slice.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace hamux {

// The thread count an option asks for: 0 means one per core.
int resolve_threads(int requested);

class ThreadPool {
 public:
  // `threads` - 1 workers are started; the calling thread is the last one.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs fn(0) ... fn(tasks - 1), spread over the threads, and waits for all of them.
  // The first exception a task throws is rethrown here (after all tasks finished).
  void run(int tasks, const std::function<void(int)>& fn);

 private:
  void work();
  void drain();  // takes tasks of the current job until none is left

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* fn_ = nullptr;
  int tasks_ = 0, next_ = 0;
  // Written under mu_; atomic so that a thread may spin on them without it (thread_pool.cpp).
  std::atomic<int> finished_{0};
  std::atomic<long> generation_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};

// Pools kept between calls: starting and joining threads for every gradient call cost more
// than the work of a small batch (the Fashion-MNIST classifier's gradient on two threads
// started ~2500 threads a second). A pool taken is the caller's alone until the handle is
// dropped; a caller that finds none idle of its size gets a new one, so concurrent calls
// never share a pool.
class PoolCache {
 public:
  static std::shared_ptr<ThreadPool> take(const std::shared_ptr<PoolCache>& cache, int threads);

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<ThreadPool>> idle_;
};

}  // namespace hamux
