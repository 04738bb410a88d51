"""Small models and the output tolerances shared by the compression tests.

Tolerances are relative errors ``||y' - y|| / ||y||`` of a compressed model's outputs on
the same input, measured with these builders over seeds 0-19 (worst case in brackets):

- float16: 2e-3 (8.5e-4). Its unit roundoff is 2**-11 = 4.9e-4 and a few layers of
  accumulated rounding stay within a few units.
- bfloat16: 2e-2 (5.6e-3). Three fewer mantissa bits: roundoff 2**-8 = 3.9e-3.
- int8, dynamic or static: 5e-2 (MLP 2.0 %, LSTM 2.1 %, transformer 1.5 %, CNN static
  2.6 %). Per-tensor int8 weights (255 levels over [-max, max]) and uint8 activations each
  add ~0.5-1 % per layer; 5 % is twice the worst seen and still far from a broken model
  (a wrong scale or zero point gives errors of order 1).
- low-rank with ratio 1.0 on an exactly low-rank weight: 1e-4; the only error is float32
  SVD round-off (~1e-6).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

FP16_TOLERANCE = 2e-3
BF16_TOLERANCE = 2e-2
INT8_TOLERANCE = 5e-2
EXACT_TOLERANCE = 1e-4


def relative_error(output: Tensor, reference: Tensor) -> float:
    """``||output - reference|| / ||reference||``, computed in float32."""
    output, reference = output.detach().float(), reference.detach()
    return float((output - reference).norm() / reference.norm())


def mlp(seed: int = 0) -> nn.Module:
    """32 -> 64 -> 64 -> 10, ReLU between."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)
    ).eval()


class SmallCNN(nn.Module):
    """Two Conv2d+BatchNorm+ReLU blocks, max and average pooling, a Linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu1 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu2 = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool(self.relu1(self.bn1(self.conv1(x))))
        x = self.gap(self.relu2(self.bn2(self.conv2(x))))
        return self.fc(torch.flatten(x, 1))


def cnn(seed: int = 0) -> SmallCNN:
    """A :class:`SmallCNN` in eval mode with non-trivial batch-norm statistics."""
    torch.manual_seed(seed)
    model = SmallCNN()
    with torch.no_grad():
        model(torch.randn(16, 3, 16, 16))  # train-mode pass: running stats move off 0/1
    return model.eval()


class LSTMClassifier(nn.Module):
    """Token embedding, one LSTM layer, a Linear head on the last time step."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True)
        self.head = nn.Linear(32, 4)

    def forward(self, ids: Tensor) -> Tensor:
        out, _ = self.lstm(self.embed(ids))
        return self.head(out[:, -1])


def lstm_classifier(seed: int = 0) -> LSTMClassifier:
    """An :class:`LSTMClassifier` in eval mode."""
    torch.manual_seed(seed)
    return LSTMClassifier().eval()


def transformer(seed: int = 0) -> nn.Module:
    """One ``nn.TransformerEncoderLayer`` (width 32) and a Linear(32, 128) head, in eval mode.

    In eval mode without grad the layer takes torch's fast path, which reads the weights of
    its linear sublayers directly instead of calling them.
    """
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(32, 2, 64, dropout=0.0, batch_first=True)
    return nn.Sequential(layer, nn.Linear(32, 128)).eval()


def images(n: int = 8, seed: int = 1) -> Tensor:
    """A batch of ``n`` random 3x16x16 images for :class:`SmallCNN`."""
    return torch.randn(n, 3, 16, 16, generator=torch.Generator().manual_seed(seed))


def tokens(n: int = 8, seed: int = 1) -> Tensor:
    """A batch of ``n`` random token sequences of length 12 for :class:`LSTMClassifier`."""
    return torch.randint(0, 50, (n, 12), generator=torch.Generator().manual_seed(seed))


def state_copy(model: nn.Module) -> dict[str, Tensor]:
    """A detached copy of the state dict, to check later that ``model`` was not changed."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def unchanged(model: nn.Module, saved: dict[str, Tensor]) -> bool:
    """Whether ``model`` has exactly the keys, dtypes and values of ``saved``."""
    state = model.state_dict()
    return state.keys() == saved.keys() and all(
        state[k].dtype == v.dtype and torch.equal(state[k], v) for k, v in saved.items()
    )
