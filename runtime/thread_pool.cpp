// runtime/thread_pool.cpp - see thread_pool.h.
#include "thread_pool.h"

#include <algorithm>

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

int resolve_threads(int requested) {
  return requested == 0 ? static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) : requested;
}

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

std::shared_ptr<ThreadPool> PoolCache::take(const std::shared_ptr<PoolCache>& cache, int threads) {
  std::unique_ptr<ThreadPool> pool;
  {
    std::lock_guard<std::mutex> lock(cache->mu_);
    auto it = std::find_if(cache->idle_.begin(), cache->idle_.end(),
                           [&](const std::unique_ptr<ThreadPool>& p) { return p->size() == threads; });
    if (it != cache->idle_.end()) {
      pool = std::move(*it);
      cache->idle_.erase(it);
    }
  }
  if (!pool) pool = std::make_unique<ThreadPool>(threads);
  // Back into the cache when the handle goes, unless the cache went first.
  std::weak_ptr<PoolCache> home = cache;
  return std::shared_ptr<ThreadPool>(pool.release(), [home](ThreadPool* p) {
    if (std::shared_ptr<PoolCache> c = home.lock()) {
      std::lock_guard<std::mutex> lock(c->mu_);
      c->idle_.emplace_back(p);
      return;
    }
    delete p;
  });
}

}  // namespace hamux
