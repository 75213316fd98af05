// tests/runtime/thread_pool_test.cpp - the thread pool and the cache that keeps pools between
// calls (runtime/thread_pool.h): a returned pool is handed out again, concurrent callers
// never share one, and a pool that outlives its cache is still freed.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "thread_pool.h"

namespace hamux {
namespace {

TEST(ThreadPool, RunsEveryTaskOnceAndWaits) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.size(), 3);
  std::vector<std::atomic<int>> hits(100);
  pool.run(100, [&](int t) { hits[t]++; });
  for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPool, ZeroMeansOneThreadPerCore) {
  EXPECT_GE(resolve_threads(0), 1);
  EXPECT_EQ(resolve_threads(3), 3);
}

TEST(PoolCache, AReturnedPoolIsHandedOutAgain) {
  auto cache = std::make_shared<PoolCache>();
  std::shared_ptr<ThreadPool> a = PoolCache::take(cache, 2);
  const ThreadPool* first = a.get();
  a.reset();
  std::shared_ptr<ThreadPool> b = PoolCache::take(cache, 2);
  EXPECT_EQ(b.get(), first);
  EXPECT_EQ(b->size(), 2);
}

TEST(PoolCache, CallersHoldingAPoolEachGetTheirOwn) {
  auto cache = std::make_shared<PoolCache>();
  std::shared_ptr<ThreadPool> a = PoolCache::take(cache, 2);
  std::shared_ptr<ThreadPool> b = PoolCache::take(cache, 2);
  std::shared_ptr<ThreadPool> c = PoolCache::take(cache, 3);
  EXPECT_NE(a.get(), b.get());
  EXPECT_EQ(c->size(), 3);
  const ThreadPool* two = a.get();
  a.reset();
  EXPECT_EQ(PoolCache::take(cache, 3)->size(), 3);  // a 3 is made; the idle 2 is not it
  EXPECT_EQ(PoolCache::take(cache, 2).get(), two);
}

TEST(PoolCache, APoolThatOutlivesItsCacheStillWorksAndIsFreed) {
  auto cache = std::make_shared<PoolCache>();
  std::shared_ptr<ThreadPool> p = PoolCache::take(cache, 2);
  cache.reset();  // the Ham went first
  std::atomic<int> n{0};
  p->run(4, [&](int) { n++; });
  EXPECT_EQ(n.load(), 4);
  p.reset();  // deleted, not returned (ASan would see a leak or a use after free)
}

}  // namespace
}  // namespace hamux
