"""Catalog field types: the strict scalars every catalog entry is built from, and its base model.

No I/O. YAML's ``true`` is not 1, "80" is not 80, and NaN or infinity is no quantity: a float
field takes a YAML int (80 for 80.0); an int field takes only an int.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

Slug = Annotated[
    str, Strict(), StringConstraints(pattern=r"^[a-z0-9]+(?:[-._][a-z0-9]+)*$", max_length=80)
]
Text = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=2000)]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Count = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
Day = Annotated[date, Strict()]  # an unquoted YAML date; not a string, not a timestamp
Positive = Annotated[Number, Field(gt=0)]
PositiveInt = Annotated[Count, Field(gt=0)]
NonNegative = Annotated[Number, Field(ge=0)]
NonNegativeInt = Annotated[Count, Field(ge=0)]
Fraction = Annotated[Number, Field(gt=0, le=1)]


class Entity(BaseModel):
    """Base for every catalog entry and its parts: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")
