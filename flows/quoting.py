"""Big task arguments passed to Prefect as they are.

Prefect walks every object in a task's arguments looking for futures, which cost a quarter
of a pass in the profile; ``quote()`` stops the walk, and the task receives the object itself.
``quoted`` keeps the argument's type for mypy, which would otherwise see a ``quote``.
"""

from __future__ import annotations

from typing import TypeVar, cast

from prefect.utilities.annotations import quote

T = TypeVar("T")


def quoted(value: T) -> T:
    """``value`` wrapped so that Prefect passes it to the task without walking it."""
    return cast(T, quote(value))
