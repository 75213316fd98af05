"""Fashion-MNIST in a dense associative memory, from Python (the Python twin of examples/retrieval).

Stores `--count` Fashion-MNIST images (Debian package dataset-fashion-mnist; synthetic shapes when
it is not installed) as the memories Xi of a hopfield synapse on a 784-pixel identity layer,

    E(x) = 1/2 |x|^2 - 1/beta logsumexp(beta Xi^T x),    dx/dt = -x + Xi softmax(beta Xi^T x),

corrupts them two ways (lower half hidden, the upper half clamped; strong noise everywhere), lets
the dynamics descend the energy and plots the energy descent and the images with matplotlib
(Agg backend) into OUT/retrieval.png.

    build/pyvenv/bin/python examples/python/fashion_retrieval.py [--count 16] [--steps 300] [--out DIR]
"""
import argparse
import gzip
import os
import pathlib
import sys

import numpy as np

import hamuxc

SIDE = 28
PIXELS = SIDE * SIDE
DATA = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def load_idx_images(path, count):
    """The first `count` images of a gzip IDX image file, scaled to [-1, 1] (-1 is black)."""
    with gzip.open(path, "rb") as f:
        header = np.frombuffer(f.read(16), dtype=">u4")
        if header[0] != 2051 or header[2] != SIDE or header[3] != SIDE:
            raise ValueError(f"{path}: not an IDX file of 28x28 images")
        if count > header[1]:
            raise ValueError(f"{path}: has {header[1]} images, {count} asked for")
        pixels = np.frombuffer(f.read(count * PIXELS), dtype=np.uint8)
    return pixels.reshape(count, PIXELS).astype(np.float64) / 127.5 - 1.0


def synthetic_shapes(count):
    """`count` distinct 28x28 shapes (disks, rings, squares, crosses at several sizes and places)."""
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    images = []
    for i in range(count):
        kind, size = i % 4, 4 + (i // 4) % 6
        cy, cx = 8 + (i * 5) % 12, 8 + (i * 7) % 12
        r = np.hypot(yy - cy, xx - cx)
        if kind == 0:
            on = r <= size
        elif kind == 1:
            on = np.abs(r - size) <= 1.5
        elif kind == 2:
            on = (np.abs(yy - cy) <= size) & (np.abs(xx - cx) <= size)
        else:
            on = ((np.abs(yy - cy) <= 1) | (np.abs(xx - cx) <= 1)) & (r <= size + 3)
        images.append(np.where(on, 1.0, -1.0).ravel())
    return np.array(images)


def memory_model(count, beta=0.2):
    """The model, built in Python as a dict (examples/retrieval/retrieval.json with another beta)."""
    return {
        "hamux": "1", "name": "fashion-retrieval",
        "params": {"Xi": {"shape": [PIXELS, count], "init": {"zeros": {}}}},
        "neurons": {"image": {"shape": [PIXELS], "lagrangian": "identity"}},
        "synapses": {"memory": {"hopfield": {"Xi": "Xi", "lagrangian": {"softmax": {"beta": beta}}}}},
        "connections": [{"neurons": ["image"], "synapse": "memory"}],
    }


def retrieve(model, queries, steps, dt, mask=None, progress=None):
    """Runs the memory on a batch of queries (clamping `mask`, nonzero = known); returns (states, report)."""
    s = model.zeros(len(queries))
    s["image"] = queries
    if mask is not None:
        s.clamp("image", mask)
    report = model.run(s, steps=steps, dt=dt, record_every=max(1, steps // 50), progress=progress)
    return s["image"], report


def nearest(images, memories):
    """Index of the stored image closest to each image."""
    d = ((images[:, None, :] - memories[None, :, :]) ** 2).sum(-1)
    return d.argmin(1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=16, help="images to store (default 16)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--synthetic", action="store_true", help="use the synthetic shapes even if the data set is there")
    ap.add_argument("--out", default="build/python-example", help="where retrieval.png goes")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--beta", type=float, default=0.2, help="softmax inverse temperature of the memory")
    args = ap.parse_args(argv)

    if not args.synthetic and os.path.exists(DATA):
        memories, source = load_idx_images(DATA, args.count), "Fashion-MNIST test images"
    else:
        memories, source = synthetic_shapes(args.count), "synthetic shapes"
    print(f"storing {args.count} {source}")
    model = hamuxc.load(memory_model(args.count, args.beta))
    model.set_param("Xi", memories.T)  # memory m is column m

    try:
        from tqdm.auto import tqdm
        progress = True
    except ImportError:
        tqdm, progress = None, None

    # Corruption 1: the lower half unknown (grey, 0), the upper half known and clamped.
    known = np.zeros(PIXELS)
    known[: PIXELS // 2] = 1
    half = memories * known
    half_out, half_report = retrieve(model, half, args.steps, args.dt, mask=known, progress=progress)
    # Corruption 2: strong Gaussian noise on every pixel, nothing clamped.
    rng = np.random.default_rng(args.seed)
    noisy = memories + rng.normal(0.0, 0.8, memories.shape)
    noisy_out, noisy_report = retrieve(model, noisy, args.steps, args.dt, progress=progress)

    truth = np.arange(args.count)
    for title, corrupted, out in [("lower half hidden", half, half_out), ("noise 0.8", noisy, noisy_out)]:
        rms_before = np.sqrt(((corrupted - memories) ** 2).mean(1))
        rms_after = np.sqrt(((out - memories) ** 2).mean(1))
        hits = int((nearest(out, memories) == truth).sum())
        print(f"{title}: rms error {rms_before.mean():.3f} -> {rms_after.mean():.3f}, "
              f"{hits}/{args.count} retrieved the stored image")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = min(args.count, 8)
    fig = plt.figure(figsize=(2 + 1.3 * shown, 9.5), constrained_layout=True)
    grid = fig.add_gridspec(6, shown, height_ratios=[1, 1, 1, 1, 1, 2.2])
    rows = [("stored", memories), ("half hidden", half), ("retrieved", half_out), ("noisy", noisy),
            ("retrieved", noisy_out)]
    for r, (label, images) in enumerate(rows):
        for c in range(shown):
            ax = fig.add_subplot(grid[r, c])
            ax.imshow(np.asarray(images[c]).reshape(SIDE, SIDE), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(label)
    for k, (title, report) in enumerate([("lower half hidden", half_report), ("noise 0.8", noisy_report)]):
        ax = fig.add_subplot(grid[5, k * shown // 2:(k + 1) * shown // 2])
        ax.plot(report.trace_steps, report.trace_energy[:, :shown])
        ax.set_title(f"energy descent: {title}")
        ax.set_xlabel("step")
        ax.set_ylabel("energy")
    fig.suptitle(f"hamuxc: {args.count} {source} in a dense associative memory")
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_dir / "retrieval.png", dpi=80)
    print(f"wrote {out_dir / 'retrieval.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
