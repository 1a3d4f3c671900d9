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

from forecaster.features import CovariateTensors

_CELLS: dict[str, type[nn.GRU] | type[nn.LSTM] | type[nn.RNN]] = {
    "gru": nn.GRU,
    "lstm": nn.LSTM,
    "rnn": nn.RNN,
}


COVARIATE_FIELDS = (
    "real_dynamic",
    "real_known",
    "cat_dynamic",
    "cat_known",
    "real_static",
    "cat_static",
)


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
    # Covariate widths (see forecaster.features): all zero / empty for a model without them.
    real_dynamic: int = 0  # numeric time-varying features, the first ``real_known`` known ahead
    real_known: int = 0
    cat_dynamic: tuple[int, ...] = ()  # vocabulary sizes (with the unknown slot); known first
    cat_known: int = 0
    real_static: int = 0
    cat_static: tuple[int, ...] = ()

    @property
    def has_covariates(self) -> bool:
        """Whether the network reads covariates (then it has a CovariateBlock)."""
        return bool(self.real_dynamic or self.cat_dynamic or self.real_static or self.cat_static)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (a model without covariates records none of their widths)."""
        out = asdict(self)
        if not self.has_covariates:
            for name in COVARIATE_FIELDS:
                del out[name]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetSpec:
        """The inverse of ``to_json``."""
        fields = dict(data)
        fields["levels"] = tuple(float(q) for q in data["levels"])
        fields["periods"] = tuple(float(p) for p in data["periods"])
        for name in ("cat_dynamic", "cat_static"):
            fields[name] = tuple(int(n) for n in data.get(name, ()))
        return cls(**fields)


class QuantileRNN(nn.Module):
    """Global recurrent forecaster emitting ``horizon x len(levels)`` monotone quantiles."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        steps_in = 2 * spec.patch + 2 * len(spec.periods)
        state = spec.hidden_size * (2 if spec.bidirectional else 1)
        # Created only for a model with covariates: the parameters (and the random draws that
        # initialise them) of a model without any stay exactly what they were.
        self.covariates = CovariateBlock(spec, state) if spec.has_covariates else None
        if self.covariates is not None:
            steps_in += spec.patch * self.covariates.dynamic_width + self.covariates.static_width
        self.encoder = _CELLS[spec.cell](
            steps_in,
            spec.hidden_size,
            num_layers=spec.num_layers,
            dropout=spec.dropout if spec.num_layers > 1 else 0.0,
            bidirectional=spec.bidirectional,
            batch_first=True,
        )
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

    def forward(
        self, z: torch.Tensor, calendar: torch.Tensor, covariates: CovariateTensors | None = None
    ) -> torch.Tensor:
        """z [B, L] scaled window, calendar [B, L/patch, 2P], covariates over the window and
        the horizon ([B, L + horizon, ...], when the model has them) -> quantiles [B, h, Q]."""
        batch = z.shape[0]
        patches = z.reshape(batch, -1, self.spec.patch)  # [B, L/patch, patch]
        change = self.seasonal_change(z).reshape(batch, -1, self.spec.patch)
        parts = [patches, change, calendar]
        dynamic = static = None
        if self.covariates is not None:
            if covariates is None:
                raise ValueError("this network reads covariates; none were given")
            dynamic = self.covariates.dynamic(covariates)  # [B, L + h, D]
            static = self.covariates.static(covariates)  # [B, Ds]
            lookback = dynamic[:, : self.spec.lookback].reshape(batch, patches.shape[1], -1)
            parts += [lookback, static[:, None, :].expand(-1, patches.shape[1], -1)]
        inputs = torch.cat(parts, dim=-1).float()  # [B, L/p, 2p + 2P (+ p D + Ds)]
        # The recurrence stays in fp32 under bf16 autocast: errors would compound over the
        # steps, and cuDNN runs bf16 RNNs only from version 9.13.
        with torch.autocast(device_type=z.device.type, enabled=False):
            _, state = self.encoder(inputs)
        hidden = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c)
        dirs = 2 if self.spec.bidirectional else 1
        final = hidden[-dirs:].transpose(0, 1).reshape(batch, -1)  # [B, dirs*H] last layer
        raw = self.head(final).reshape(batch, self.spec.horizon, -1)  # [B, h, Q]
        if self.covariates is not None and dynamic is not None and static is not None:
            known = self.covariates.known(covariates, dynamic)  # type: ignore[arg-type]
            raw = raw + self.covariates.step_term(known, dynamic, static, final)
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


def embedding_width(vocabulary: int) -> int:
    """Embedding width of a categorical column with ``vocabulary`` codes (unknown included)."""
    return min(8, max(2, (vocabulary + 1) // 2))


class CovariateBlock(nn.Module):
    """What a network with covariates adds: embeddings of the categorical columns, and a
    per-step term of the head.

    The encoder reads every dynamic feature at each point of the window (and the static ones
    at each step). The head adds, at horizon step t, a term read from [the known features at
    step t, all dynamic features at the window point the seasonal-naive baseline copies for
    step t, the static features, the encoder's final state] to the median and the spreads: a
    promotion on step 7 moves step 7, and a promotion in the copied season is taken back out.
    The term's last layer starts at zero, so training starts from the covariate-free head.
    """

    def __init__(self, spec: NetSpec, state: int) -> None:
        super().__init__()
        self.spec = spec
        self.dynamic_embeddings = nn.ModuleList(
            nn.Embedding(n, embedding_width(n)) for n in spec.cat_dynamic
        )
        self.static_embeddings = nn.ModuleList(
            nn.Embedding(n, embedding_width(n)) for n in spec.cat_static
        )
        widths = [embedding_width(n) for n in spec.cat_dynamic]
        self.dynamic_width = spec.real_dynamic + sum(widths)
        self.known_width = spec.real_known + sum(widths[: spec.cat_known])
        self.static_width = spec.real_static + sum(embedding_width(n) for n in spec.cat_static)
        inputs = self.known_width + self.dynamic_width + self.static_width + state
        last = nn.Linear(spec.hidden_size, len(spec.levels))
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.step = nn.Sequential(nn.Linear(inputs, spec.hidden_size), nn.GELU(), last)
        season = spec.season if spec.season <= spec.lookback else 1
        source = spec.lookback - season + torch.arange(spec.horizon) % season  # [h]
        self.source: torch.Tensor
        self.register_buffer("source", source, persistent=False)

    def dynamic(self, covariates: CovariateTensors) -> torch.Tensor:
        """All dynamic features [B, T, D]: the numeric ones, then the embeddings."""
        embedded = [e(covariates.cats[..., j]) for j, e in enumerate(self.dynamic_embeddings)]
        return torch.cat([covariates.real.float(), *embedded], dim=-1)

    def known(self, covariates: CovariateTensors, dynamic: torch.Tensor) -> torch.Tensor:
        """The known-ahead features over the horizon [B, h, K]."""
        ahead = slice(self.spec.lookback, self.spec.lookback + self.spec.horizon)
        embedded = dynamic[..., self.spec.real_dynamic :]
        widths = [embedding_width(n) for n in self.spec.cat_dynamic]
        known_embedded = embedded[..., : sum(widths[: self.spec.cat_known])]
        real = covariates.real[:, ahead, : self.spec.real_known].float()
        return torch.cat([real, known_embedded[:, ahead]], dim=-1)

    def static(self, covariates: CovariateTensors) -> torch.Tensor:
        """Static features [B, Ds]: the numeric ones, then the embeddings."""
        embedded = [e(covariates.static_cats[:, j]) for j, e in enumerate(self.static_embeddings)]
        return torch.cat([covariates.static_real.float(), *embedded], dim=-1)

    def step_term(
        self, known: torch.Tensor, dynamic: torch.Tensor, static: torch.Tensor, final: torch.Tensor
    ) -> torch.Tensor:
        """The head's per-step term [B, h, Q]."""
        batch, horizon = known.shape[0], known.shape[1]
        source = dynamic[:, self.source]  # [B, h, D]: what the baseline copies for each step
        shared = torch.cat([static, final], dim=-1)[:, None, :].expand(batch, horizon, -1)
        return self.step(torch.cat([known, source, shared], dim=-1))


def count_parameters(net: nn.Module) -> int:
    """Trainable parameters of ``net``."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def pinball(
    pred: torch.Tensor,
    target: torch.Tensor,
    levels: torch.Tensor,
    weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean pinball (quantile) loss of pred [B, h, Q] against target [B, h]; with ``weight``
    [B], the windows' losses are averaged with those weights."""
    diff = target[..., None] - pred  # [B, h, Q]
    loss = torch.maximum(levels * diff, (levels - 1) * diff)
    if weight is None:
        return loss.mean()
    return (loss.mean(dim=(1, 2)) * weight).sum() / weight.sum()
