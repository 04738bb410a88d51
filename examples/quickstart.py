"""Quickstart: train a small PyTorch classifier under wattprint.

Energy is measured per epoch and per evaluation, and loss/accuracy are logged next to
it, so you can see what each epoch cost and what it bought. Runs on CPU in seconds:

    python examples/quickstart.py --epochs 3

``wattprint demo`` runs this same file.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import wattprint
from wattprint.tracking.tracker import Tracker


def make_data(
    samples: int, features: int = 32, classes: int = 4, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian blobs around random centres: a task a small MLP learns in a few epochs."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, features, generator=gen) * 1.5
    labels = torch.randint(0, classes, (samples,), generator=gen)
    points = centres[labels] + torch.randn(samples, features, generator=gen) * 2.0
    return points, labels


def train(tracker: Tracker, epochs: int = 3, samples: int = 60_000, batch_size: int = 128) -> float:
    """Train for ``epochs``, one ``epoch`` and one ``eval`` window each; returns accuracy."""
    torch.manual_seed(0)
    x, y = make_data(samples + samples // 4)
    x_train, y_train, x_test, y_test = x[:samples], y[:samples], x[samples:], y[samples:]
    model = nn.Sequential(
        nn.Linear(32, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 4)
    )
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        with tracker.window("epoch"):
            for i in range(0, samples, batch_size):
                optimiser.zero_grad()
                loss = loss_fn(model(x_train[i : i + batch_size]), y_train[i : i + batch_size])
                loss.backward()
                optimiser.step()
                total += loss.item() * len(y_train[i : i + batch_size])
        model.eval()
        with tracker.window("eval"), torch.no_grad():
            accuracy = (model(x_test).argmax(dim=1) == y_test).float().mean().item()
        tracker.log(step=epoch, loss=total / samples, accuracy=accuracy)
    return accuracy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--project", default="quickstart")
    parser.add_argument("--run", default=None)
    args = parser.parse_args(argv)
    with wattprint.track(project=args.project, run=args.run) as tracker:
        train(tracker, args.epochs)
    print(tracker.result)


if __name__ == "__main__":
    main()
