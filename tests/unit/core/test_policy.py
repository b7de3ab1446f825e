"""Policies: the standard one parses; a bad one reports every problem at once, with its path."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import STANDARD_TOML, eur
from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.money import Money
from pastdue.core.policy import (
    DayCount,
    Escalation,
    Level,
    Policy,
    below_minimum,
    choose_policy,
    policy_from_dict,
    policy_from_toml,
    policy_to_dict,
)
from pastdue.errors import Problem


def messages(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems]


def test_standard_policy_of_the_design_parses() -> None:
    policy, problems = policy_from_toml(STANDARD_TOML)
    assert problems == []
    assert policy == Policy(
        name="standard",
        levels=(
            Level(1, "reminder", 1, ("email",)),
            Level(2, "second reminder", 8, ("email",)),
            Level(3, "phone call", 15, ("phone",)),
            Level(4, "final notice", 31, ("letter",)),
        ),
        escalation=Escalation.STEP,
        days=DayCount.CALENDAR,
        min_days_between_notices=7,
    )
    assert policy.offsets == (1, 8, 15, 31)
    assert policy.level(3).name == "phone call"


def test_optional_settings_parse() -> None:
    policy, problems = policy_from_toml(
        """
        name = "gentle"
        escalation = "catch-up"
        days = "business"
        calendar = "de"
        min_balance = { EUR = "5.00", JPY = 500 }
        [[levels]]
        name = "nudge"
        after_days = -3
        channels = ["email", "sms"]
        [[levels]]
        name = "reminder"
        after_days = 10
        channels = ["letter"]
        min_days_since_previous = 14
        """
    )
    assert problems == []
    assert policy is not None
    assert policy.escalation is Escalation.CATCH_UP and policy.days is DayCount.BUSINESS
    assert policy.calendar == "DE"
    assert policy.min_balance == {"EUR": eur("5.00"), "JPY": Money.of_minor(500, "JPY")}
    assert policy.levels[0] == Level(1, "nudge", -3, ("email", "sms"))
    assert policy.levels[1].min_days_since_previous == 14


BAD_POLICY = """\
name = ""
escalation = "fast"
days = "weekdays"
min_days_between_notices = -1
min_balance = { EUR = "5.001", XXX = "1.00", USD = "-2.00" }
colour = "red"

[[levels]]
name = "reminder"
after_days = 5
channels = ["email"]

[[levels]]
name = "again"
after_days = 5
channels = ["email", "email"]

[[levels]]
name = "call"
after_days = "ten"
channels = ["fax"]
min_days_since_previous = 1.5
tone = "stern"
"""


def test_bad_policy_reports_every_problem_at_once_with_its_path() -> None:
    policy, problems = policy_from_toml(BAD_POLICY)
    assert policy is None
    assert sorted(messages(problems)) == sorted(
        [
            "policy.toml: colour: unknown setting",
            "policy.toml: name: must be a non-empty string",
            'policy.toml: escalation: must be "step" or "catch-up"',
            'policy.toml: days: must be "calendar" or "business"',
            "policy.toml: min_days_between_notices: must be an integer >= 0",
            "policy.toml: min_balance.EUR: '5.001' has 3 decimals; EUR allows 2",
            "policy.toml: min_balance.XXX: unknown ISO 4217 currency",
            "policy.toml: min_balance.USD: must not be negative",
            "policy.toml: levels[2].after_days: must be greater than the previous level's (5)",
            "policy.toml: levels[2].channels: lists a channel twice",
            "policy.toml: levels[3].tone: unknown setting",
            "policy.toml: levels[3].after_days: must be an integer",
            "policy.toml: levels[3].channels: unknown channel 'fax' (known: email, sms, letter, phone, webhook)",
            "policy.toml: levels[3].min_days_since_previous: must be an integer >= 0",
        ]
    )


def test_problem_names_source_path_and_message() -> None:
    _, problems = policy_from_toml(BAD_POLICY, source="tenants/acme.toml")
    problem = next(p for p in problems if p.field == "levels[3].after_days")
    assert problem == Problem("tenants/acme.toml", None, "levels[3].after_days", "must be an integer")
    assert str(problem) == "tenants/acme.toml: levels[3].after_days: must be an integer"


@pytest.mark.parametrize(
    ("key", "value", "capability"),
    [
        ("fee", '"statutory"', "fees"),
        ("interest", '"statutory"', "interest"),
        ("hand_over", '"agency"', "hand-over to an agency"),
    ],
)
def test_level_options_of_later_capabilities_are_named_not_supported(key: str, value: str, capability: str) -> None:
    text = STANDARD_TOML.replace('channels = ["letter"]', f'channels = ["letter"]\n{key} = {value}')
    policy, problems = policy_from_toml(text)
    assert policy is None
    assert messages(problems) == [f"policy.toml: levels[4].{key}: not supported yet ({capability} are not available)"]


def test_delivery_options_are_read_and_round_trip() -> None:
    text = "max_notices_per_7_days = 2\n" + STANDARD_TOML.replace(
        'channels = ["letter"]', 'channels = ["letter", "email"]\nnew_deadline_days = 14\nrequires_approval = true'
    )
    policy, problems = policy_from_toml(text)
    assert problems == []
    assert policy is not None
    assert policy.max_notices_per_7_days == 2
    final = policy.level(4)
    assert (final.channels, final.new_deadline_days, final.requires_approval) == (("letter", "email"), 14, True)
    assert policy.level(1).requires_approval is False
    assert policy_from_dict(policy_to_dict(policy))[0] == policy


def test_bad_delivery_options_are_all_reported() -> None:
    text = "max_notices_per_7_days = 0\n" + STANDARD_TOML.replace(
        'channels = ["letter"]', 'channels = ["letter"]\nnew_deadline_days = -1\nrequires_approval = "yes"'
    )
    _, problems = policy_from_toml(text)
    assert messages(problems) == [
        "policy.toml: max_notices_per_7_days: must be an integer >= 1",
        "policy.toml: levels[4].new_deadline_days: must be an integer from 0 to 365",
        "policy.toml: levels[4].requires_approval: must be true or false",
    ]


LEVEL = '[[levels]]\nname = "a"\nafter_days = 1\nchannels = ["email"]'
NO_LEVELS = "policy.toml: levels: must list at least one level ([[levels]] tables)"
KNOWN = "email, sms, letter, phone, webhook"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"', NO_LEVELS),
        ('name = "x"\nlevels = []', NO_LEVELS),
        ('name = "x"\nlevels = [1]', "policy.toml: levels[1]: must be a table"),
        (
            f'name = "x"\ndays = "business"\n{LEVEL}',
            'policy.toml: calendar: is required when days = "business" (a country code such as "DE")',
        ),
        (
            f'name = "x"\ncalendar = "Germany"\n{LEVEL}',
            'policy.toml: calendar: must be a two-letter country code such as "DE"',
        ),
        (
            f'name = "x"\nmin_balance = "5"\n{LEVEL}',
            'policy.toml: min_balance: must be a table such as { EUR = "5.00" }',
        ),
        (
            'name = "x"\n' + LEVEL.replace("after_days = 1", "after_days = true"),
            "policy.toml: levels[1].after_days: must be an integer",
        ),
        (
            'name = "x"\n' + LEVEL.replace('["email"]', '"email"'),
            f"policy.toml: levels[1].channels: must list at least one of {KNOWN}",
        ),
        (
            'name = "x"\n' + LEVEL.replace('name = "a"\n', ""),
            "policy.toml: levels[1].name: must be a non-empty string",
        ),
    ],
    ids=[
        "no-levels",
        "empty-levels",
        "level-not-a-table",
        "business-without-calendar",
        "calendar-not-a-code",
        "min-balance-not-a-table",
        "after-days-bool",
        "channels-string",
        "level-without-name",
    ],
)
def test_each_rule_reports_its_own_problem(text: str, expected: str) -> None:
    policy, problems = policy_from_toml(text)
    assert policy is None
    assert messages(problems) == [expected]


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        (f'name = "x"\nescalation = ["step"]\n{LEVEL}', ["escalation"]),
        (f'name = "x"\ndays = {{ a = 1 }}\n{LEVEL}', ["days"]),
        (
            'name = "x"\n' + LEVEL.replace('["email"]', '[["email"], { b = 2 }, "email"]'),
            ["levels[1].channels", "levels[1].channels"],
        ),
        (
            'name = 1\nmin_balance = { EUR = 5.5 }\nlevels = "none"',
            ["name", "min_balance.EUR", "levels"],
        ),
    ],
    ids=["escalation-list", "days-table", "channels-nested", "everything-wrong"],
)
def test_values_of_the_wrong_type_are_problems_not_crashes(text: str, fields: list[str]) -> None:
    policy, problems = policy_from_toml(text)
    assert policy is None
    assert [p.field for p in problems] == fields


SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(-5, 50)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
    | st.sampled_from(["step", "catch-up", "business", "calendar", "DE", "email", "EUR", "5.00"])
)
VALUE = SCALAR | st.lists(SCALAR, max_size=3) | st.dictionaries(SCALAR.map(str), SCALAR, max_size=3)
KEYS = st.sampled_from(
    [
        "name",
        "escalation",
        "days",
        "calendar",
        "min_days_between_notices",
        "min_balance",
        "levels",
        "after_days",
        "channels",
        "min_days_since_previous",
        "fee",
        "colour",
    ]
)
PARSED = st.dictionaries(KEYS, VALUE | st.lists(st.dictionaries(KEYS, VALUE, max_size=4), max_size=3), max_size=6)


@given(PARSED)
def test_any_parsed_data_gives_a_policy_or_problems_never_an_exception(
    data: dict[str, Any],
) -> None:
    policy, problems = policy_from_dict(data)
    assert (policy is None) == bool(problems)


def test_policy_to_dict_round_trips_through_policy_from_dict() -> None:
    policy, _ = policy_from_toml(
        STANDARD_TOML.replace('days = "calendar"', 'days = "business"\ncalendar = "DE"')
        .replace('escalation = "step"', 'escalation = "catch-up"')
        .replace("min_days_between_notices = 7", 'min_balance = { USD = "5", EUR = "2.50" }')
        .replace("after_days = 15", "after_days = 15\nmin_days_since_previous = 10")
    )
    assert policy is not None
    assert policy_from_dict(policy_to_dict(policy)) == (policy, [])


LEVELS = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=10).filter(str.strip),
        st.lists(
            st.sampled_from(["email", "sms", "letter", "phone", "webhook"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
        st.integers(0, 30),
    ),
    min_size=1,
    max_size=5,
)


@given(
    LEVELS,
    st.lists(st.integers(-30, 120), min_size=5, max_size=5, unique=True).map(sorted),
    st.sampled_from(list(Escalation)),
    st.integers(0, 30),
    st.dictionaries(st.sampled_from(["EUR", "JPY", "KWD"]), st.integers(0, 10**6)),
)
def test_any_valid_policy_round_trips(
    levels: list[tuple[str, list[str], int]],
    offsets: list[int],
    escalation: Escalation,
    gap: int,
    floors: dict[str, int],
) -> None:
    policy = Policy(
        name="p",
        levels=tuple(
            Level(i, name, offsets[i - 1], tuple(channels), since)
            for i, (name, channels, since) in enumerate(levels, start=1)
        ),
        escalation=escalation,
        min_days_between_notices=gap,
        min_balance={c: Money.of_minor(m, c) for c, m in floors.items()},
    )
    assert policy_from_dict(policy_to_dict(policy)) == (policy, [])


def test_customer_policy_wins_over_the_tenant_default() -> None:
    standard, _ = policy_from_toml(STANDARD_TOML)
    assert standard is not None
    gentle = Policy("gentle", standard.levels)
    policies = {"standard": standard, "gentle": gentle}
    assert choose_policy("gentle", policies, "standard") is gentle
    assert choose_policy(None, policies, "standard") is standard
    assert choose_policy(None, policies, None) is None
    assert choose_policy("missing", policies, "standard") is None


def test_below_minimum_only_for_currencies_with_a_floor() -> None:
    standard, _ = policy_from_toml(STANDARD_TOML.replace("min_days", 'min_balance = { EUR = "5.00" }\nmin_days'))
    assert standard is not None
    assert below_minimum(standard, eur("4.99"))
    assert not below_minimum(standard, eur("5.00"))
    assert not below_minimum(standard, Money.of_minor(1, "USD"))


def test_max_promise_days_defaults_to_thirty_and_round_trips_only_when_set() -> None:
    from pastdue.core.policy import policy_from_toml, policy_to_dict

    default, _ = policy_from_toml(STANDARD_TOML)
    assert default is not None and default.max_promise_days == 30
    assert "max_promise_days" not in policy_to_dict(default)  # stored policies keep their digests
    longer, _ = policy_from_toml("max_promise_days = 60\n" + STANDARD_TOML)
    assert longer is not None and policy_to_dict(longer)["max_promise_days"] == 60
    _none, problems = policy_from_toml("max_promise_days = 0\n" + STANDARD_TOML)
    assert [p.field for p in problems] == ["max_promise_days"]
