"""A flow run's parameters sent to Prefect as they are when they are plain JSON values.

Prefect's engine, creating a run, encodes each parameter with FastAPI's ``jsonable_encoder``,
and imports FastAPI to do it (``Flow.serialize_parameters``): about 500 modules, 0.10 CPU-s,
paid by the first run of every process (``vigie monitor``, one pass a process) for parameters
that are booleans and numbers. The encoder gives those back unchanged, so they are sent as
they are; any other value goes through Prefect's own encoding, as before.
"""

from __future__ import annotations

from typing import Any, ParamSpec, TypeVar

from prefect import Flow

P = ParamSpec("P")
R = TypeVar("R")

#: Types FastAPI's encoder returns unchanged (exactly these: an enum or another subclass is
#: encoded by Prefect).
_AS_THEY_ARE = frozenset({bool, int, float, str, type(None)})


def plain_parameters(flow: Flow[P, R]) -> Flow[P, R]:
    """``flow``, whose runs send parameters that are all JSON scalars without FastAPI."""
    encoded_by_prefect = flow.serialize_parameters

    def serialize(parameters: dict[str, Any]) -> dict[str, Any]:
        if all(type(value) in _AS_THEY_ARE for value in parameters.values()):
            return dict(parameters)
        return encoded_by_prefect(parameters)

    # On the instance: Prefect's engine calls ``flow.serialize_parameters`` of this object.
    flow.serialize_parameters = serialize  # type: ignore[method-assign]
    return flow
