"""AdamW (Adam with decoupled weight decay) without ``torch.optim``.

Creating any ``torch.optim`` optimizer imports ``torch._dynamo`` (some 800 modules, 68 MB
resident), which nothing else in fitting or forecasting loads: at 20,000 series x 500 points
it was a seventh of what ``fit`` adds to the process (bench/scale.py, "Memory at scale").
``AdamW.step`` is the arithmetic of ``torch.optim.AdamW``'s for-each implementation
(torch's default on CUDA; on the CPU its per-tensor loop computes the same) without
AMSGrad, capturable or fused steps, operation for operation, so the weights it steps to are
the same bits (tests/forecaster/test_adamw.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

BETAS = (0.9, 0.999)  # torch.optim.AdamW's defaults
EPS = 1e-8


class AdamW:
    """AdamW over ``params``: ``lr`` may change between steps (a schedule sets it); a
    parameter without a gradient at a step (``zero_grad`` then no backward through it) is
    left alone, its step count included, as torch's optimizers do."""

    def __init__(self, params: Sequence[torch.Tensor], lr: float, weight_decay: float) -> None:
        self.params = list(params)
        self.lr = lr
        self.weight_decay = weight_decay
        self.steps = [0] * len(params)  # per parameter: the steps it took
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in params]

    def zero_grad(self) -> None:
        """Drop every gradient (``set_to_none``: a parameter left out of the next backward
        pass takes no step)."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One step of every parameter that has a gradient."""
        live = [i for i, p in enumerate(self.params) if p.grad is not None]
        if not live:
            return
        beta1, beta2 = BETAS
        params = [self.params[i] for i in live]
        grads = [g for g in (self.params[i].grad for i in live) if g is not None]
        exp_avg = [self.exp_avg[i] for i in live]
        exp_avg_sq = [self.exp_avg_sq[i] for i in live]
        for i in live:
            self.steps[i] += 1
        torch._foreach_mul_(params, 1 - self.lr * self.weight_decay)
        torch._foreach_lerp_(exp_avg, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sq, beta2)
        torch._foreach_addcmul_(exp_avg_sq, grads, grads, 1 - beta2)
        # Python floats, as torch computes them from its step counts.
        step_size = [(self.lr / (1 - beta1 ** self.steps[i])) * -1 for i in live]
        correction2_sqrt = [(1 - beta2 ** self.steps[i]) ** 0.5 for i in live]
        denom = torch._foreach_sqrt(exp_avg_sq)
        torch._foreach_div_(denom, correction2_sqrt)
        torch._foreach_add_(denom, EPS)
        torch._foreach_addcdiv_(params, exp_avg, denom, step_size)
