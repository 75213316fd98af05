"""A large batch, and a large data set for evaluation, split over Dask workers.

    build/pyvenv/bin/python examples/python/dask_batches.py [--workers 2] [--queries 2048] [--chunk 256]

1. One batch of `--queries` noisy copies of stored images is cut into chunks of `--chunk`
   samples; hamuxc.parallel.run_split ships the model to every worker once (pickled as its
   JSON and params), runs the chunks there and puts the final states back together. With
   chunks of a multiple of 16 samples the result is the single-process run's, bit for bit
   (checked below).
2. Evaluation over a data set: the Fashion-MNIST test images (or synthetic shapes) in chunks;
   each worker corrupts its chunk, retrieves it and returns how many came back to the right
   stored image. Only the counts travel back.
"""
import argparse
import sys
import time

import numpy as np

import hamuxc
from hamuxc.parallel import run_split

sys.path.insert(0, __import__("os").path.dirname(__file__))
from fashion_retrieval import DATA, load_idx_images, memory_model, nearest, synthetic_shapes  # noqa: E402


def evaluate_chunk(model, images, seed, steps):
X
    memories = model.param("Xi").T.astype(np.float64)
    rng = np.random.default_rng(seed)
    s = model.zeros(len(images))
    s["image"] = images + rng.normal(0.0, 0.8, images.shape)
    model.run(s, steps=steps, dt=0.1)
    truth = nearest(images, memories)
    return int((nearest(s["image"].astype(np.float64), memories) == truth).sum()), len(images)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queries", type=int, default=2048)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--memories", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--synthetic", action="store_true")
    args = ap.parse_args(argv)
    from dask.distributed import Client, LocalCluster

    import os
    images = (synthetic_shapes(args.memories + 512) if args.synthetic or not os.path.exists(DATA)
              else load_idx_images(DATA, args.memories + 512))
    memories, data_set = images[: args.memories], images[args.memories:]
    model = hamuxc.load(memory_model(args.memories))
    model.set_param("Xi", memories.T)

    rng = np.random.default_rng(0)
    states = model.zeros(args.queries)
    states["image"] = memories[rng.integers(0, args.memories, args.queries)] + rng.normal(0, 0.8, (args.queries, 784))

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        t0 = time.perf_counter()
        result, reports = run_split(client, model, states, chunk_size=args.chunk, steps=args.steps, dt=0.1)
        t_dask = time.perf_counter() - t0
        single = states.clone()
        t0 = time.perf_counter()
        model.run(single, steps=args.steps, dt=0.1)
        t_single = time.perf_counter() - t0
        same = result["image"].tobytes() == single["image"].tobytes()
        print(f"{args.queries} queries in {len(reports)} chunks on {args.workers} workers: {t_dask:.2f} s "
              f"(one process: {t_single:.2f} s); bit-identical to one process: {same}")

        # Evaluation over a data set: the model travels once, the chunks of images as arrays.
        model_future = client.scatter(model, broadcast=True)
        futures = [client.submit(evaluate_chunk, model_future, data_set[b:b + 128], b, args.steps)
                   for b in range(0, len(data_set), 128)]
        hits = sum(h for h, _ in client.gather(futures))
        print(f"evaluation: {hits}/{len(data_set)} noisy test images flowed to their nearest stored image")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
