#!/usr/bin/env python3
"""The torch reference of deploy/gpu-check, timed on the same GPU and data.

The straightforward way to featurize the check's workload: per block of rows, one forward and one
backward of TRAK's margin, per-example gradients as outer products in ggda's parameter layout, then
one dense GEMM with a Rademacher P (torch's own random signs: same shape and work, not the same
values). Groups of 64 sum their rows' gradients before the GEMM. Times fp32, tf32 and bf16 GEMMs,
with the features left on the device and with them copied to the host as ggda returns them.

Usage: gpu-check-torch.py --bundle target/gpu-check/bundle [--out DIR] [--rows N] [--device cuda]
"""
import argparse
import gzip
import json
import math
import os
import struct
import time

import numpy as np
import torch


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                meta[key] = value
    return meta


def read_idx(images, labels, limit):
    with gzip.open(images, "rb") as f:
        _, n, rows, cols = struct.unpack(">iiii", f.read(16))
        n = min(n, limit)
        x = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8).reshape(n, rows * cols).astype(np.float32) / 255
    with gzip.open(labels, "rb") as f:
        f.read(8)
        y = np.frombuffer(f.read(n), dtype=np.uint8).astype(np.int64)
    return x, y


def read_model(path):
    with open(path, "rb") as f:
        (count,) = struct.unpack(">i", f.read(4))
        return np.frombuffer(f.read(4 * count), dtype=">f4").astype(np.float32)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--out")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--block", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args()
    device = torch.device(args.device)
    meta = read_meta(os.path.join(args.bundle, "meta.properties"))
    d, h, c, k = int(meta["input"]), int(meta["hidden"]), int(meta["classes"]), int(meta["k"])
    n = min(int(meta["trainRows"]), args.rows or 1 << 31)
    x, y = read_idx(os.path.join(args.bundle, "train-images-idx3-ubyte.gz"),
                    os.path.join(args.bundle, "train-labels-idx1-ubyte.gz"), n)
    flat = read_model(os.path.join(args.bundle, "model.bin"))
    p = d * h + h + h * c + c
    w1 = torch.tensor(flat[:d * h].reshape(d, h), device=device)
    b1 = torch.tensor(flat[d * h:d * h + h], device=device)
    w2 = torch.tensor(flat[d * h + h:d * h + h + h * c].reshape(h, c), device=device)
    b2 = torch.tensor(flat[d * h + h + h * c:p], device=device)
    x = torch.tensor(x, device=device)
    y = torch.tensor(y, device=device)
    proj = (torch.randint(0, 2, (p, k), device=device, dtype=torch.int8).float() * 2 - 1) / math.sqrt(k)
    proj_bf16 = proj.bfloat16()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"== torch {torch.__version__} reference on {name}: {n:,} rows, p = {p:,}, k = {k:,}, blocks of {args.block} rows")

    def gradients(xb, yb):
        z1 = xb @ w1 + b1
        a1 = torch.relu(z1)
        logits = a1 @ w2 + b2
        onehot = torch.nn.functional.one_hot(yb, c).bool()
        others = torch.softmax(logits.masked_fill(onehot, float("-inf")), dim=1)
        d2 = onehot.float() - others.masked_fill(onehot, 0.0)
        d1 = (d2 @ w2.T) * (a1 > 0)
        b = xb.shape[0]
        g1 = (xb[:, :, None] * d1[:, None, :]).reshape(b, d * h)
        g2 = (a1[:, :, None] * d2[:, None, :]).reshape(b, h * c)
        return torch.cat([g1, d1, g2, d2], dim=1)

    def featurize(mode, group, to_host):
        torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
        rows = (n + group - 1) // group
        out = torch.empty(rows, k, device=device)
        for r0 in range(0, n, args.block):
            r1 = min(n, r0 + args.block)
            g = gradients(x[r0:r1], y[r0:r1])
            if group > 1:
                idx = torch.arange(r0, r1, device=device) // group - r0 // group
                g = torch.zeros((r1 - r0 + group - 1) // group + 1, p, device=device).index_add_(0, idx, g)[:idx[-1] + 1]
            f = (g.bfloat16() @ proj_bf16).float() if mode == "bf16" else g @ proj
            out[r0 // group:r0 // group + f.shape[0]] = f
        if to_host:
            out = out.cpu()
        sync(device)
        return out

    results = []
    for group in (1, 64):
        for mode in ("fp32", "tf32", "bf16"):
            for to_host in (False, True):
                featurize(mode, group, to_host)
                times = []
                for _ in range(args.repeats):
                    sync(device)
                    t0 = time.perf_counter()
                    featurize(mode, group, to_host)
                    times.append(time.perf_counter() - t0)
                label = f"{'per-example' if group == 1 else 'groups of 64'} features, {mode}, {'to host' if to_host else 'on device'}"
                flops = 2.0 * ((n + group - 1) // group) * p * k
                print(f"{label:<50} best {min(times):.3f} s ({', '.join(f'{t:.3f}' for t in times)}); "
                      f"projection {flops / min(times) / 1e12:.1f} TFLOP/s over the call")
                results.append({"name": label, "rows": n, "group": group, "mode": mode, "toHost": to_host,
                                "bestSeconds": min(times), "seconds": times})
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "torch-reference.json"), "w") as f:
            json.dump({"torch": torch.__version__, "device": name, "rows": n, "params": p, "k": k, "results": results}, f,
                      indent=2)
        print("wrote " + os.path.join(args.out, "torch-reference.json"))


if __name__ == "__main__":
    main()
