"""PyTorch's whole epoch as one compiled program (mode compile-epoch).

The 258 steps run inside `scan` (a torch higher-order op that torch.compile captures as one
loop, not 258 unrolled copies). Autograd and torch.optim cannot run inside it, so the step is
written out: the gradients of Linear -> ReLU -> Linear under the L1 loss, and Adam's update as
torch.optim.Adam computes it (same betas, eps and bias correction). Same start weights and batch
order as the other torch modes; tests/core/test_accuracy.py holds it to eager's test metrics.
"""

from __future__ import annotations

import torch
from torch import nn
from torch._higher_order_ops.scan import scan

from bench.config import WORKLOAD

# torch.optim.Adam's defaults, which the other torch modes use.
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8

# (parameters, first moments, second moments, step): the four weights of Linear -> ReLU ->
# Linear as one flat vector (w1, b1, w2, b2), so Adam's update is one fused kernel over all of
# them; with a tensor each an epoch took 0.0103 s against 0.0088 (BENCHMARKS.md, overhead runs).
State = tuple[torch.Tensor, ...]


def initial_state(model: nn.Sequential) -> State:
    """The model's weights (copied) as one flat vector, zero Adam moments and step 0."""
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    step = torch.zeros((), dtype=torch.float64, device=flat.device)
    return flat, torch.zeros_like(flat), torch.zeros_like(flat), step


def load_weights(model: nn.Sequential, state: State) -> None:
    """Copy the state's weights into the model (for evaluation)."""
    with torch.no_grad():
        start = 0
        for param in model.parameters():
            param.copy_(state[0][start : start + param.numel()].view_as(param))
            start += param.numel()


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


def _unflatten(flat: torch.Tensor, features: int) -> tuple[torch.Tensor, ...]:
    """w1 (hidden, features), b1 (hidden), w2 (1, hidden), b2 (1): views into `flat`."""
    hidden = WORKLOAD.hidden
    sizes = (hidden * features, hidden, hidden, 1)
    w1, b1, w2, b2 = flat.split(sizes)
    return w1.view(hidden, features), b1, w2.view(1, hidden), b2


def _step(state: State, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[State, torch.Tensor]:
    flat, m, v, step = state
    xb, yb = batch
    w1, b1, w2, b2 = _unflatten(flat, xb.shape[1])
    hidden = xb @ w1.T + b1
    active = torch.relu(hidden)
    diff = active @ w2.T + b2 - yb
    loss = diff.abs().mean()
    # d loss / d prediction of the mean absolute error (0 where the prediction is exact, as L1Loss).
    d_pred = torch.sign(diff) / diff.numel()
    d_hidden = (d_pred @ w2) * (hidden > 0)
    grad = torch.cat(
        [
            (d_hidden.T @ xb).reshape(-1),
            d_hidden.sum(0),
            (d_pred.T @ active).reshape(-1),
            d_pred.sum(0),
        ]
    )
    step = step + 1
    correction1, correction2 = 1 - BETA1**step, 1 - BETA2**step
    m = BETA1 * m + (1 - BETA1) * grad
    v = BETA2 * v + (1 - BETA2) * grad * grad
    denom = v.sqrt() / correction2.sqrt() + EPS
    flat = flat - (WORKLOAD.learning_rate / correction1) * m / denom
    return (flat, m, v, step), loss
