"""Typed configuration and deadline-derived time budgets."""

from __future__ import annotations

import pytest

from serving.budget import time_budget
from serving.config import ServerConfig
from turnwise.errors import DeadlineExceeded, InvalidArgument


def test_env_then_overrides() -> None:
    env = {
        "TURNWISE_PORT": "6000",
        "RAY_ADDRESS": "ray://head:10001",
        "TURNWISE_LOAD_DEMO": "false",
    }
    config = ServerConfig.from_env(env, host="0.0.0.0", port=None)
    assert (config.port, config.ray_address, config.load_demo, config.host) == (
        6000,
        "ray://head:10001",
        False,
        "0.0.0.0",
    )
    assert ServerConfig.from_env(env, port=7000).port == 7000


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"TURNWISE_PORT": "http"}, "port"),
        ({"TURNWISE_PORT": "70000"}, "port"),
        ({"TURNWISE_LOAD_DEMO": "maybe"}, "load_demo"),
        ({"TURNWISE_DATABASE_URL": "turnwise.db"}, "database_url"),
        ({"TURNWISE_CPU_WORKERS": "0"}, "cpu_workers"),
        ({"TURNWISE_RULES_POLL_SECONDS": "-1"}, "rules_poll_seconds"),
        ({"TURNWISE_RULES_POLL_SECONDS": "often"}, "rules_poll_seconds"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        ServerConfig.from_env(env)
    assert err.value.field == field


def test_budget_without_deadline_is_the_requested_or_default_limit() -> None:
    assert time_budget(None, 0, 10.0) == 10.0
    assert time_budget(None, 3.0, 10.0) == 3.0


def test_budget_is_capped_by_the_deadline_minus_a_reserve() -> None:
    budget = time_budget(2.0, 30.0, 10.0)
    assert 1.5 < budget < 2.0
    assert time_budget(100.0, 5.0, 10.0) == 5.0


def test_spent_deadline_raises_before_work_starts() -> None:
    with pytest.raises(DeadlineExceeded):
        time_budget(0.01, 5.0, 10.0)
