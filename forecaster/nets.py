"""The network: a recurrent encoder over patches of the scaled window and a direct quantile head.

The head starts from a strong baseline, the seasonal-naive forecast of the window, and adds a
linear map of the window (an autoregressive highway, as in LSTNet) and a correction read from
the encoder's final state. Quantiles are monotone by construction: the median plus cumulative
softplus increments upwards and downwards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

_CELLS: dict[str, type[nn.GRU] | type[nn.LSTM] | type[nn.RNN]] = {
    "gru": nn.GRU,
    "lstm": nn.LSTM,
    "rnn": nn.RNN,
}


@dataclass(frozen=True)
class NetSpec:
    """Everything that rebuilds a network; stored in the artifact manifest."""

    cell: str
    hidden_size: int
    num_layers: int
    dropout: float
    bidirectional: bool
    lookback: int
    patch: int
    season: int
    horizon: int
    levels: tuple[float, ...]
    periods: tuple[float, ...]
    transform: str = "none"  # "log": strictly positive training data, modelled in log space

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetSpec:
        """The inverse of ``to_json``."""
        fields = dict(data)
        fields["levels"] = tuple(float(q) for q in data["levels"])
        fields["periods"] = tuple(float(p) for p in data["periods"])
        return cls(**fields)


class QuantileRNN(nn.Module):
    """Global recurrent forecaster emitting ``horizon x len(levels)`` monotone quantiles."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        steps_in = 2 * spec.patch + 2 * len(spec.periods)
        self.encoder = _CELLS[spec.cell](
            steps_in,
            spec.hidden_size,
            num_layers=spec.num_layers,
            dropout=spec.dropout if spec.num_layers > 1 else 0.0,
            bidirectional=spec.bidirectional,
            batch_first=True,
        )
        state = spec.hidden_size * (2 if spec.bidirectional else 1)
        n_levels = len(spec.levels)
        self.head = nn.Sequential(
            nn.Linear(state, state),
            nn.GELU(),
            nn.Dropout(spec.dropout),
            nn.Linear(state, spec.horizon * n_levels),
        )
        self.highway = nn.Linear(spec.lookback, spec.horizon)
        nn.init.zeros_(self.highway.weight)
        nn.init.zeros_(self.highway.bias)
        self.median = spec.levels.index(0.5)

    def forward(self, z: torch.Tensor, calendar: torch.Tensor) -> torch.Tensor:
        """z [B, L] scaled window, calendar [B, L/patch, 2P] -> quantiles [B, horizon, Q]."""
        batch = z.shape[0]
        patches = z.reshape(batch, -1, self.spec.patch)  # [B, L/patch, patch]
        change = self.seasonal_change(z).reshape(batch, -1, self.spec.patch)
        inputs = torch.cat([patches, change, calendar], dim=-1).float()  # [B, L/p, 2p + 2P]
        # The recurrence stays in fp32 under bf16 autocast: errors would compound over the
        # steps, and cuDNN runs bf16 RNNs only from version 9.13.
        with torch.autocast(device_type=z.device.type, enabled=False):
            _, state = self.encoder(inputs)
        hidden = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c)
        dirs = 2 if self.spec.bidirectional else 1
        final = hidden[-dirs:].transpose(0, 1).reshape(batch, -1)  # [B, dirs*H] last layer
        raw = self.head(final).reshape(batch, self.spec.horizon, -1)  # [B, h, Q]
        center = self.baseline(z) + self.highway(z) + raw[..., self.median]  # [B, h]
        up = torch.cumsum(F.softplus(raw[..., self.median + 1 :]), dim=-1)
        down = torch.cumsum(F.softplus(raw[..., : self.median].flip(-1)), dim=-1).flip(-1)
        return torch.cat(
            [center[..., None] - down, center[..., None], center[..., None] + up], dim=-1
        )

    def seasonal_change(self, z: torch.Tensor) -> torch.Tensor:
        """z minus its value one season earlier (0 in the window's first season): [B, L]."""
        season = self.spec.season
        if season >= z.shape[1]:
            return torch.zeros_like(z)
        return torch.cat([torch.zeros_like(z[:, :season]), z[:, season:] - z[:, :-season]], dim=1)

    def baseline(self, z: torch.Tensor) -> torch.Tensor:
        """The seasonal-naive forecast of each window (naive when the window is shorter)."""
        season = self.spec.season if self.spec.season <= z.shape[1] else 1
        reps = -(-self.spec.horizon // season)
        return z[:, -season:].repeat(1, reps)[:, : self.spec.horizon]


def count_parameters(net: nn.Module) -> int:
    """Trainable parameters of ``net``."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def pinball(pred: torch.Tensor, target: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """Mean pinball (quantile) loss of pred [B, h, Q] against target [B, h]."""
    diff = target[..., None] - pred  # [B, h, Q]
    return torch.maximum(levels * diff, (levels - 1) * diff).mean()
