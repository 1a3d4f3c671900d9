"""Validation of the names users give to datasets, models and aliases."""

from __future__ import annotations

import re

from models.errors import InvalidInput

# The one definition of valid names: the store validates with these, the API's schemas and the
# job specs declare them (anchored) so the OpenAPI document states the same rule.
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# An alias starts with a letter, so ``name@3`` (a version) and ``name@prod`` (an alias) never clash.
ALIAS_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
NAME_PATTERN_TEXT = f"^{NAME_PATTERN.pattern}$"
ALIAS_PATTERN_TEXT = f"^{ALIAS_PATTERN.pattern}$"
# A model reference: ``name``, ``name@3`` (a version) or ``name@alias``.
REFERENCE_PATTERN_TEXT = f"^{NAME_PATTERN.pattern}(@([0-9]{{1,9}}|{ALIAS_PATTERN.pattern}))?$"


def validate_name(value: str, what: str = "name") -> str:
    """VALUE when it is a valid dataset/model name (letters, digits, ``_ . -``; 1-200 chars)."""
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"invalid {what} {value!r}: use 1-200 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return value


def validate_alias(value: str) -> str:
    """VALUE when it is a valid alias (starts with a letter; letters, digits, ``_ -``)."""
    if not isinstance(value, str) or not ALIAS_PATTERN.fullmatch(value):
        raise InvalidInput(
            f"invalid alias {value!r}: use 1-64 letters, digits, '_' or '-', starting with a letter"
        )
    return value
