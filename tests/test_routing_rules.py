"""The lead-routing rules file (``serving.routing_rules``): every key read into the routing
policy and SLA rules, defaults where a key is missing, and errors that name the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dealer_group.records import LeadChannel, LeadGrade
from lead_routing.routing import RoutingPolicy
from lead_routing.sla_rules import SlaRules
from serving.config import ServerConfig
from serving.routing_rules import (
    RoutingRules,
    RulesFile,
    load_routing_rules,
    parse_routing_rules,
)
from turnwise.errors import InvalidArgument

FULL = """
[policy]
grade_urgency = { H = 4.0, A = 3, B = 1.5, C = 0.25 }
load_weight = 2.0
share_weight = 0.5
share_floor = 0.1
pending_weight = 1
shift_end_buffer_minutes = 15
sticky_owner = false

[sla]
first_contact_minutes = 10
recycle_after_minutes = 90
escalate_after_hours = 24
escalate_grades = ["H"]
reroute_recycled = false

[[sla.overrides]]
grade = "H"
channel = "DOUYIN"
first_contact_minutes = 3

[[sla.overrides]]
channel = "WALK_IN"
escalates = false
recycle_after_minutes = 240
"""


def test_every_key_is_read() -> None:
    rules = parse_routing_rules(FULL)
    policy = rules.policy
    assert [policy.urgency(g) for g in "HABC"] == [4.0, 3.0, 1.5, 0.25]
    assert (policy.load_weight, policy.share_weight, policy.share_floor) == (2.0, 0.5, 0.1)
    assert (policy.pending_weight, policy.shift_end_buffer_minutes) == (1.0, 15)
    assert policy.sticky_owner is False
    assert rules.reroute_recycled is False
    sla = rules.sla
    web_a = sla.for_lead(LeadGrade.A, LeadChannel.WEB)
    assert (web_a.first_contact, web_a.recycle_after) == (
        timedelta(minutes=10),
        timedelta(90 / 1440),
    )
    assert web_a.escalate_after is None  # only H escalates
    hot = sla.for_lead(LeadGrade.H, LeadChannel.DOUYIN)
    assert hot.first_contact == timedelta(minutes=3)
    assert hot.escalate_after == timedelta(hours=24)
    walk_in = sla.for_lead(LeadGrade.H, LeadChannel.WALK_IN)
    assert walk_in.escalate_after is None and walk_in.recycle_after == timedelta(hours=4)


def test_an_empty_file_keeps_every_default(tmp_path: Path) -> None:
    file = tmp_path / "rules.toml"
    file.write_text("# nothing set\n", encoding="utf-8")
    rules = load_routing_rules(file)
    assert rules == RoutingRules()
    assert rules.policy == RoutingPolicy() and rules.sla == SlaRules()


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("[policy]\nload_wieght = 1", "routing_rules:policy.load_wieght", "not a known key"),
        ("[polcy]\n", "routing_rules:polcy", "not a known key"),
        ("[policy]\nload_weight = -1", "routing_rules:policy.load_weight", ">= 0"),
        ("[policy]\nshare_weight = 'x'", "routing_rules:policy.share_weight", "number"),
        ("[policy]\nshare_floor = 2", "routing_rules:policy.share_floor", "[0, 1]"),
        ("[policy]\ngrade_urgency = { H = 1 }", "routing_rules:policy.grade_urgency", "A, B, C"),
        (
            "[policy]\ngrade_urgency = { H = 1, A = 1, B = 1, C = inf }",
            "routing_rules:policy.grade_urgency[C]",
            "finite",
        ),
        ("[policy]\nsticky_owner = 1", "routing_rules:policy.sticky_owner", "bool"),
        ("[sla]\nfirst_contact_minutes = 0", "routing_rules:sla.first_contact_minutes", ""),
        (
            "[sla]\nfirst_contact_minutes = 200",
            "routing_rules:sla.first_contact_minutes",
            "must not exceed recycle_after",
        ),
        ("[sla]\nescalate_grades = ['X']", "routing_rules:sla.escalate_grades[0]", "'X'"),
        (
            "[[sla.overrides]]\nchannel = 'FAX'\nfirst_contact_minutes = 1",
            "routing_rules:sla.overrides[0].channel",
            "'FAX' is not one of WEB",
        ),
        (
            "[[sla.overrides]]\ngrade = 'H'\nfirst_contact_minutes = 1\n"
            "[[sla.overrides]]\ngrade = 'A'\nfirst_contact_minutes = 300",
            "routing_rules:sla.overrides[1]",
            "must not exceed recycle_after",
        ),
        (
            "[[sla.overrides]]\ngrade = 'H'",
            "routing_rules:sla.overrides[0].first_contact_minutes",
            "changes nothing",
        ),
        (
            "[[sla.overrides]]\nfirst_contact_minutes = 1",
            "routing_rules:sla.overrides[0].grade",
            "set grade",
        ),
        ("[sla\n", "routing_rules", "not valid TOML"),
    ],
)
def test_a_bad_file_names_the_key(text: str, field: str, words: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_routing_rules(text)
    assert err.value.field == field, err.value
    assert words in str(err.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument) as err:
        load_routing_rules(tmp_path / "absent.toml")
    assert err.value.field == "routing_rules" and "absent.toml" in str(err.value)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_bytes(b"[policy]\nload_weight = 2 # \xff\n")
    with pytest.raises(InvalidArgument) as err:
        load_routing_rules(path)
    assert err.value.field == "routing_rules" and "not UTF-8" in str(err.value)


def test_the_server_setting_comes_from_the_environment(tmp_path: Path) -> None:
    env = {"TURNWISE_ROUTING_RULES_PATH": str(tmp_path / "rules.toml")}
    assert ServerConfig.from_env(env).routing_rules_path == str(tmp_path / "rules.toml")
    assert ServerConfig.from_env({}).routing_rules_path == ""


def test_a_watched_file_answers_its_rules_once_per_change(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text("[policy]\nload_weight = 2\n", encoding="utf-8")
    watched = RulesFile(path)
    assert watched.read().policy.load_weight == 2.0
    assert watched.changed() is None  # nothing changed since it was built
    path.write_text("[policy]\nload_weight = 3.5\n", encoding="utf-8")
    changed = watched.changed()
    assert changed is not None and changed.policy.load_weight == 3.5
    assert watched.changed() is None
    path.write_text("[policy]\nload_weight = -1\n", encoding="utf-8")
    with pytest.raises(InvalidArgument) as err:
        watched.changed()
    assert err.value.field == "routing_rules:policy.load_weight"
    assert watched.changed() is None  # a bad file is reported once, not on every look
    path.unlink()
    with pytest.raises(InvalidArgument, match="cannot read"):
        watched.changed()
    path.write_text("", encoding="utf-8")  # back, empty: every default
    assert watched.changed() == RoutingRules()
