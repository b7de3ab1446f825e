"""Policies that ship with pastdue, kept as the TOML files a tenant would write."""

from __future__ import annotations

from importlib import resources


def standard_policy_toml(escalation: str = "step") -> str:
    """The standard policy (DESIGN.md section 6) as TOML, in either escalation mode."""
    text = (resources.files(__package__) / "standard.toml").read_text(encoding="utf-8")
    return text.replace('escalation = "step"', f'escalation = "{escalation}"', 1)
