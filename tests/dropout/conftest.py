"""Fixtures for dropout tests."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.models import County

from ..factories import make_school


@pytest.fixture
def xuanzhou(plan: None) -> County:
    return County.objects.get(slug="xuanzhou")


@pytest.fixture
def langxi(plan: None) -> County:
    return County.objects.get(slug="langxi")


@pytest.fixture
def xuanzhou_junior(plan: None) -> Any:
    return make_school("xuanzhou", "宣州区第一初级中学", "3134001002", ["初中"])
