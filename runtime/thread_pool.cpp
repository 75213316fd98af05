// runtime/thread_pool.cpp - see thread_pool.h.
#include "thread_pool.h"

namespace hamux {

namespace {

// Before a thread sleeps on a condition variable it spins this many times (about 0.1 ms):
// a step loop hands out its next job within microseconds, and waking a sleeping thread costs
// tens of them, more under a hypervisor. A gradient call of the Fashion-MNIST classifier runs
// a dozen jobs of two blocks; with sleeps between them it took 2.44 ms on two threads against
// 1.74 ms on one (docs/performance.md).
constexpr int kSpins = 2000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int t = 1; t < threads; ++t) workers_.emplace_back([this] { work(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  while (next_ < tasks_) {
    const int task = next_++;
    const std::function<void(int)>* fn = fn_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*fn)(task);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (++finished_ == tasks_) done_.notify_all();
  }
}

void ThreadPool::work() {
  long seen = 0;
  for (;;) {
    for (int i = 0; i < kSpins && generation_.load() == seen && !stop_.load(); ++i) cpu_relax();
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain();
  }
}

void ThreadPool::run(int tasks, const std::function<void(int)>& fn) {
  if (tasks <= 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    tasks_ = tasks;
    next_ = finished_ = 0;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  drain();
  for (int i = 0; i < kSpins && finished_.load() != tasks; ++i) cpu_relax();
  std::unique_lock<std::mutex> lock(mu_);
  done_.wait(lock, [&] { return finished_ == tasks_; });
  fn_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace hamux
