#!/usr/bin/env python3
"""Trains a training file's model with the hamux Python library 0.2 on JAX (issue 16).

The comparison of `hamux train` against the JAX library (docs/performance.md, "Training against
the JAX library"); run it through tools/golden/train_jax.sh, which creates the virtual
environment, runs both sides pinned to the same cores and prints the report.

The model is the HAM of make_golden.build_ham (hamux.NeuronLayer with the library's Lagrangians,
hamux.LinearSynapse, the bias synapse -b . xhat, hamux.HAM(...).vectorize()), so the energy is the
one hamux compiles. Everything else is read from the same training file hamux reads: per batch,
states from zeros with the fed arrays set (and clamped: rate 0), T explicit Euler steps
x <- x - (dt / tau) dE/dxhat, the loss on the loss neuron's activation (cross entropy, mean over
the batch), jax.grad with respect to the params, one optax Adam step. The whole training step is
one jax.jit. Samples are taken in file order (the file must say "shuffle": false), every batch
full-sized, and the params start from a params.npz that `hamux train --epochs 0` wrote.

    train_jax.py data --out build                  # build/fashion6000.npz, fashion_test.npz, fashion_first100.npz
    train_jax.py loss FILE.train.json --params P   # loss and gradient norm of the first batch at P
    train_jax.py train FILE.train.json --params P --epochs 3 --json OUT.json
"""
import argparse
import contextlib
import gzip
import io
import json
import os
import struct
import sys
import time

import numpy as np

FASHION = "/usr/share/datasets/fashion-mnist"
SUBSET = 6000  # the first SUBSET training images: epochs of seconds, not minutes


# ---- data ----

def read_idx(path):
    """An IDX array (the MNIST format, gzip-compressed), as uint8."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype, rank = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(dims)


def images_labels(kind, count=None):
    x = read_idx(os.path.join(FASHION, f"{kind}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(FASHION, f"{kind}-labels-idx1-ubyte.gz"))
    x, y = x[:count], y[:count]
    # Pixels / 255 rounded once to float32: both sides read these very numbers from the .npz.
    return (x.reshape(len(x), -1).astype(np.float64) / 255).astype(np.float32), y.astype(np.int64)


def cmd_data(a):
    os.makedirs(a.out, exist_ok=True)
    x, y = images_labels("train", SUBSET)
    xt, yt = images_labels("t10k")
    files = {"fashion6000.npz": (x, y), "fashion_first100.npz": (x[:100], y[:100]), "fashion_test.npz": (xt, yt)}
    for name, (images, labels) in files.items():
        np.savez(os.path.join(a.out, name), images=images, labels=labels)
        print(f"{os.path.join(a.out, name)}: images {list(images.shape)} float32, labels {list(labels.shape)} int64")


# ---- the training file, read as hamux reads it (the keys this comparison needs) ----

class Run:
    def __init__(self, train_file):
        with open(train_file) as f:
            t = json.load(f)
        base = os.path.dirname(os.path.abspath(train_file))
        path = lambda p: p if os.path.isabs(p) else os.path.join(base, p)  # noqa: E731
        with open(path(t["model"])) as f:
            self.model = json.load(f)
        opt = t.get("optimizer", {})
        dyn = t.get("dynamics", {})
        # What this script does not reproduce must not be silently different.
        if t.get("shuffle", True):
            raise SystemExit(f"{train_file}: needs \"shuffle\": false (this script takes the samples in file order)")
        if opt.get("name", "adam") != "adam" or opt.get("schedule", "constant") != "constant" or \
                opt.get("warmup_steps", 0) or opt.get("clip_norm", 0) or opt.get("weight_decay", 0):
            raise SystemExit(f"{train_file}: this script reproduces plain Adam with a constant lr only")
        if dyn.get("method", "bptt") != "bptt" or dyn.get("tol", 0):
            raise SystemExit(f"{train_file}: this script runs the T fixed steps of BPTT only (no tol)")
        if t["loss"].get("loss") != "cross_entropy" or t["loss"].get("of", "activation") != "activation" or \
                t["loss"].get("reduction", "mean") != "mean":
            raise SystemExit(f"{train_file}: this script computes the mean cross entropy on an activation only")
        self.lr = opt.get("lr", 1e-3)
        self.b1, self.b2, self.eps = opt.get("beta1", 0.9), opt.get("beta2", 0.999), opt.get("eps", 1e-8)
        self.steps, self.dt = dyn.get("steps", 10), dyn.get("dt", 0.1)
        self.batch, self.epochs = t.get("batch", 32), t.get("epochs", 1)
        self.feeds = t["feeds"]
        self.loss_neuron, self.target = t["loss"]["neuron"], t["target"]
        self.data = {}
        for which in ("train", "test"):
            if which in t["data"]:
                self.data[which] = {name: self._array(src, name, path) for name, src in t["data"][which].items()}

    @staticmethod
    def _array(src, name, path):
        if isinstance(src, str):
            src = {"file": src}
        if not src["file"].endswith(".npz") or set(src) - {"file", "member"}:
            raise SystemExit(f"{src['file']}: this script reads .npz members only (no scale, offset, shape)")
        with np.load(path(src["file"])) as z:
            return z[src.get("member", name)]


# ---- the model on the JAX library ----

def load_jax():
    import jax
    jax.config.update("jax_enable_x64", False)  # float32, the model's dtype
    return jax


def make_functions(run):
    jax = load_jax()
    import jax.numpy as jnp
    import optax
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_golden import build_ham  # the model -> HAM mapping of the golden fixtures

    model = run.model
    taus = {n: float(v.get("tau", 1.0)) for n, v in model["neurons"].items()}
    clamped = {f["neuron"] for f in run.feeds if f.get("clamp", True)}
    feeds = [(f["array"], f["neuron"]) for f in run.feeds]

    def final_activation(params, arrays):
        with contextlib.redirect_stdout(io.StringIO()):  # NeuronLayer prints "Post init" (at trace time)
            ham = build_ham(model, params)
        n = arrays[feeds[0][0]].shape[0]
        xs = {k: jnp.zeros((n, *v["shape"]), jnp.float32) for k, v in model["neurons"].items()}
        for array, neuron in feeds:
            xs[neuron] = arrays[array]

        def step(_, xs):
            g = ham.dEdact(ham.activations(xs), xs)
            return {k: x if k in clamped else x - (run.dt / taus[k]) * g[k] for k, x in xs.items()}
        xs = jax.lax.fori_loop(0, run.steps, step, xs)
        return ham.activations(xs)[run.loss_neuron]

    def loss(params, arrays):
        y = final_activation(params, arrays)
        t = arrays[run.target]
        per = -jnp.log(jnp.take_along_axis(y, t[:, None], axis=1)[:, 0])  # cross entropy, class indices
        return jnp.mean(per), jnp.sum(jnp.argmax(y, axis=1) == t)

    opt = optax.adam(run.lr, b1=run.b1, b2=run.b2, eps=run.eps)

    @jax.jit
    def train_step(params, state, arrays):
        (value, correct), grads = jax.value_and_grad(loss, has_aux=True)(params, arrays)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value, correct

    value_and_grad = jax.jit(jax.value_and_grad(lambda p, a: loss(p, a)[0]))
    return jax, opt, jax.jit(loss), train_step, value_and_grad


def load_params(path):
    with np.load(path) as z:
        return {k: z[k].astype(np.float32) for k in z.files}


def batches(arrays, batch, names):
    n = len(next(iter(arrays.values())))
    if n % batch:
        raise SystemExit(f"{n} samples are not a whole number of batches of {batch}")
    for b in range(0, n, batch):
        yield {k: arrays[k][b:b + batch] for k in names}


def cmd_loss(a):
    run = Run(a.train_file)
    _, _, _, _, value_and_grad = make_functions(run)
    names = [f["array"] for f in run.feeds] + [run.target]
    first = next(batches(run.data["train"], run.batch, names))
    value, grads = value_and_grad(load_params(a.params), first)
    # The global L2 norm of the gradient: hamux's log.csv grad_norm (before clipping).
    norm = np.sqrt(sum(np.sum(np.asarray(g, np.float64) ** 2) for g in grads.values()))
    print(f"loss {float(value):.9g} grad_norm {norm:.9g}")


def cmd_train(a):
    run = Run(a.train_file)
    jax, opt, loss, train_step, _ = make_functions(run)
    import jax.numpy as jnp
    names = [f["array"] for f in run.feeds] + [run.target]
    params = {k: jnp.asarray(v) for k, v in load_params(a.params).items()}
    state = opt.init(params)
    epochs = a.epochs if a.epochs is not None else run.epochs
    log = []
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        total, correct, count = 0.0, 0, 0
        values = []
        for b in batches(run.data["train"], run.batch, names):
            params, state, value, c = train_step(params, state, b)
            values.append(value)
            correct += c
            count += run.batch
        jax.block_until_ready(params)
        seconds = time.perf_counter() - t0  # epoch 1 includes the compilation of train_step
        total = float(np.mean(np.asarray(jnp.stack(values), np.float64)))
        log.append({"epoch": epoch, "train_loss": total, "train_accuracy": int(correct) / count, "seconds": seconds})
        print(f"epoch {epoch}/{epochs}: train loss {total:.6g} accuracy {100 * int(correct) / count:.2f}%, "
              f"{seconds:.3f} s", flush=True)
    out = {"epochs": log}
    if "test" in run.data:
        t_loss, t_correct, n = 0.0, 0, 0
        for b in batches(run.data["test"], run.batch, names):
            value, c = loss(params, b)
            t_loss += float(value) * run.batch
            t_correct += int(c)
            n += run.batch
        out["test_loss"], out["test_accuracy"] = t_loss / n, t_correct / n
        print(f"test: {n} samples, loss {t_loss / n:.6g}, accuracy {100 * t_correct / n:.2f}%")
    import importlib.metadata as md
    out["versions"] = f"jax {jax.__version__}, jaxlib {md.version('jaxlib')}, optax {md.version('optax')}, " \
                      f"hamux (Python) {md.version('hamux')}"
    out["xla_flags"] = os.environ.get("XLA_FLAGS", "")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("data", help="write the Fashion-MNIST subset and the test set as .npz")
    d.add_argument("--out", default="build")
    lo = sub.add_parser("loss", help="the mean loss of the first batch")
    tr = sub.add_parser("train", help="train; per-epoch seconds, test accuracy")
    for p in (lo, tr):
        p.add_argument("train_file")
        p.add_argument("--params", required=True, help="params.npz of `hamux train --epochs 0`")
    tr.add_argument("--epochs", type=int, help="default: the training file's")
    tr.add_argument("--json", help="write the log and the test result here")
    a = ap.parse_args()
    {"data": cmd_data, "loss": cmd_loss, "train": cmd_train}[a.cmd](a)


if __name__ == "__main__":
    main()
