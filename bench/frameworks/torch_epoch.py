"""PyTorch's whole epoch as one compiled program (mode compile-epoch).

The 258 steps run inside `scan` (a torch higher-order op that torch.compile captures as one
loop, not 258 unrolled copies). Autograd and torch.optim cannot run inside it, so the step is
written out: the gradients of Linear -> ReLU -> Linear under the L1 loss, and Adam's update as
torch.optim.Adam computes it (same betas, eps and bias correction). Same start weights and batch
order as the other torch modes; tests/core/test_accuracy.py holds it to eager's test metrics.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch._higher_order_ops.scan import scan

from bench.config import WORKLOAD

# torch.optim.Adam's defaults, which the other torch modes use.
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8

State = tuple[torch.Tensor, ...]  # w1, b1, w2, b2, their first moments, second moments, step


def initial_state(model: nn.Sequential) -> State:
    """The model's weights (copied), zero Adam moments and step 0."""
    weights = [p.detach().clone() for p in model.parameters()]
    zeros = [torch.zeros_like(w) for w in weights]
    step = torch.zeros((), dtype=torch.float64, device=weights[0].device)
    return (*weights, *zeros, *[z.clone() for z in zeros], step)


def load_weights(model: nn.Sequential, state: State) -> None:
    """Copy the state's weights into the model (for evaluation)."""
    with torch.no_grad():
        for param, weight in zip(model.parameters(), state[:4], strict=True):
            param.copy_(weight)


def train_epoch(
    state: State, x: torch.Tensor, y: torch.Tensor, index: torch.Tensor
) -> tuple[State, torch.Tensor]:
    """One epoch over the rows in `index`: (new state, mean of the step losses).

    Batches are a reshape to (steps, batch, features), static shapes; rows past the last full
    batch would need a second program, and the training split has none (16,512 = 258 x 64).
    """
    batch = WORKLOAD.batch_size
    steps = index.shape[0] // batch
    features = x.shape[1]
    xs = x.index_select(0, index)[: steps * batch].reshape(steps, batch, features)
    ys = y.index_select(0, index)[: steps * batch].reshape(steps, batch, 1)
    state, losses = scan(_step, state, (xs, ys))
    return state, losses.mean()


def _step(state: State, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[State, torch.Tensor]:
    w1, b1, w2, b2 = state[:4]
    xb, yb = batch
    hidden = xb @ w1.T + b1
    active = torch.relu(hidden)
    diff = active @ w2.T + b2 - yb
    loss = diff.abs().mean()
    # d loss / d prediction of the mean absolute error (0 where the prediction is exact, as L1Loss).
    d_pred = torch.sign(diff) / diff.numel()
    d_hidden = (d_pred @ w2) * (hidden > 0)
    grads = (d_hidden.T @ xb, d_hidden.sum(0), d_pred.T @ active, d_pred.sum(0))
    step = state[12] + 1
    correction1, correction2 = 1 - BETA1**step, 1 - BETA2**step
    new: list[Any] = [[], [], []]
    for i, grad in enumerate(grads):
        m = BETA1 * state[4 + i] + (1 - BETA1) * grad
        v = BETA2 * state[8 + i] + (1 - BETA2) * grad * grad
        denom = v.sqrt() / correction2.sqrt() + EPS
        new[0].append(state[i] - (WORKLOAD.learning_rate / correction1) * m / denom)
        new[1].append(m)
        new[2].append(v)
    return (*new[0], *new[1], *new[2], step), loss
