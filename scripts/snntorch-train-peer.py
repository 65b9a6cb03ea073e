#!/usr/bin/env python3
"""snnTorch training peer of `lifb-hdl train` (docs/benchmarks.md, "Training against snnTorch"):
the 784-256-10 MLP of LIF neurons (snn.Leaky, beta = 1 as lifb-hdl's default lam = 1, threshold 1,
subtract reset), T steps, direct coding with the first layer's current computed once per batch
(as lifb-hdl does; --per-step recomputes it every step, as snnTorch's tutorials do), MNIST images
rounded to 4 bits, batch 128, AdamW lr 2e-3 with a cosine schedule, cross-entropy on the output
spike counts / T times a learned temperature (lifb-hdl's spike readout), the same number of
epochs. Prints one JSON line: seconds of the training loop per epoch, training images per second
and the test accuracy after the last epoch (all 10,000 test images). One thread unless --threads.
"""
import argparse
import json
import math
import pathlib
import time

import torch
import snntorch as snn
from snntorch import surrogate


def idx(path, offset):
    return torch.frombuffer(bytearray(pathlib.Path(path).read_bytes()), dtype=torch.uint8)[offset:]


def mnist(data_dir, split):
    d = pathlib.Path(data_dir) / "mnist"
    stem = "train" if split == "train" else "t10k"
    x = idx(d / f"{stem}-images-idx3-ubyte", 16).view(-1, 784).float() / 255.0
    y = idx(d / f"{stem}-labels-idx1-ubyte", 8).long()
    return torch.round(x * 15.0) / 15.0, y


class Net(torch.nn.Module):
    def __init__(self, steps, per_step):
        super().__init__()
        self.steps, self.per_step = steps, per_step
        self.fc1 = torch.nn.Linear(784, 256)
        self.fc2 = torch.nn.Linear(256, 10)
        grad = surrogate.sigmoid(slope=4)
        self.lif1 = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract", spike_grad=grad)
        self.lif2 = snn.Leaky(beta=1.0, threshold=1.0, reset_mechanism="subtract", spike_grad=grad)
        self.log_temperature = torch.nn.Parameter(torch.tensor(math.log(4.0)))

    def forward(self, x):
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        cur1 = None if self.per_step else self.fc1(x)
        counts = 0
        for _ in range(self.steps):
            spk1, mem1 = self.lif1(self.fc1(x) if self.per_step else cur1, mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            counts = counts + spk2
        return counts

    def logits(self, counts):
        return counts / self.steps * self.log_temperature.exp()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="data")
    ap.add_argument("-T", "--steps", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--per-step", action="store_true", help="recompute the first layer every step")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr, ytr = mnist(a.data_dir, "train")
    xte, yte = mnist(a.data_dir, "test")
    net = Net(a.steps, a.per_step)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=0.0)
    batches = math.ceil(len(xtr) / a.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=batches * a.epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = []
    for epoch in range(a.epochs):
        order = torch.randperm(len(xtr))
        t0 = time.perf_counter()
        for b in range(batches):
            i = order[b * a.batch:(b + 1) * a.batch]
            loss = loss_fn(net.logits(net(xtr[i])), ytr[i])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        seconds.append(time.perf_counter() - t0)
    with torch.no_grad():
        correct = sum(int((net(xte[j:j + 1000]).argmax(1) == yte[j:j + 1000]).sum())
                      for j in range(0, len(xte), 1000))
    print(json.dumps({
        "tool": "snntorch", "snntorch": snn.__version__, "torch": torch.__version__,
        "steps": a.steps, "threads": a.threads, "per_step": a.per_step,
        "seconds_per_epoch": [round(s, 2) for s in seconds],
        "images_per_s": round(len(xtr) / (sum(seconds) / len(seconds))),
        "test_accuracy": correct / len(xte),
    }))


if __name__ == "__main__":
    main()
