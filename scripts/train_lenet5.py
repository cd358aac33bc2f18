"""Train the bundled LeNet-5 on scikit-learn's handwritten digits and write ``cnnviz/assets/lenet5_digits.pt``.

Usage: ``python -m scripts.train_lenet5 [--epochs 60] [--out cnnviz/assets/lenet5_digits.pt]``. Deterministic on
the CPU (fixed seeds, one thread); prints the held-out accuracy, which ``tests/test_lenet5.py`` checks.

``--shuffle-labels`` trains the same network on the same digits with their labels shuffled (seed
:data:`cnnviz.trust.data_randomisation.SHUFFLE_SEED`) until it has memorised them, without augmentation (a
shifted copy would need its own random label), for the data randomisation check of Adebayo et al. (2018):
``python -m scripts.train_lenet5 --shuffle-labels --epochs 200`` writes
``cnnviz/assets/lenet5_shuffled_labels.pt``; it prints the accuracy on the shuffled training labels (the
memorisation, 100 % from epoch 150) and on the held-out digits' true labels (chance, about 10 %).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

from cnnviz.digits import accuracy, digit_split
from cnnviz.models.bundled import asset_path
from cnnviz.models.zoo import get_spec
from cnnviz.trust.data_randomisation import SHUFFLED_FILE, shuffled_labels

BATCH = 128


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random shifts of up to ±2 px and scaling of ±10 %, so hand-drawn digits off-centre still work."""
    n = images.shape[0]
    scale = 1 + (torch.rand(n, generator=generator) - 0.5) * 0.2
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * (4 / 16)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale
    theta[:, 1, 1] = scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images + 1, grid, align_corners=False, padding_mode="zeros") - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--out", type=Path, default=None, help="default: the bundled file of the run's kind")
    parser.add_argument("--shuffle-labels", action="store_true", help="train on shuffled labels (see above)")
    args = parser.parse_args()
    args.out = args.out or asset_path(SHUFFLED_FILE if args.shuffle_labels else "lenet5_digits.pt")

    torch.set_num_threads(1)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    split = digit_split()
    labels = split.train_labels
    if args.shuffle_labels:
        labels = shuffled_labels(labels)
    model = get_spec("lenet5").build().train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    batches_per_epoch = -(-len(split.train_labels) // BATCH)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=3e-3, total_steps=args.epochs * batches_per_epoch)
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(split.train_labels), generator=generator)
        for batch in order.split(BATCH):
            images = split.train_images[batch]
            if not args.shuffle_labels:
                images = augment(images, generator)
            loss = F.cross_entropy(model(images), labels[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
        if (epoch + 1) % 10 == 0:
            acc = accuracy(model, split.test_images, split.test_labels)
            learnt = accuracy(model, split.train_images, labels)
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}, training {learnt:.4f}, held-out accuracy {acc:.4f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out)
    print(f"held-out accuracy {accuracy(model, split.test_images, split.test_labels):.4f}; wrote {args.out}")


if __name__ == "__main__":
    main()
