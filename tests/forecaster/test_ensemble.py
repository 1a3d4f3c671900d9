"""forecaster.ensemble.combine: the element-wise median of the members' forecasts."""

from __future__ import annotations

import pytest
import torch

from forecaster.ensemble import combine


@pytest.mark.parametrize("members", [1, 2, 3, 4, 5, 7])
def test_combine_is_exactly_the_members_median(members: int) -> None:
    generator = torch.Generator().manual_seed(members)
    forecasts = list(torch.randn(members, 20, 6, 5, generator=generator))
    forecasts[0][0, 0, 0] = forecasts[-1][0, 0, 0]  # ties select the same number
    expected = torch.quantile(torch.stack(forecasts), 0.5, dim=0)
    assert torch.equal(combine(forecasts), expected)


def test_the_median_of_three_picks_the_middle_member_per_element() -> None:
    low, mid, high = torch.zeros(2, 3), torch.ones(2, 3), torch.full((2, 3), 2.0)
    mid[0, 0] = 5.0  # the middle of (0, 5, 2) is 2
    combined = combine([high, low, mid])
    assert combined[0, 0] == 2.0
    assert torch.equal(combined[1], torch.ones(3))
