"""FastAPI dependencies, exposed as ``Annotated`` aliases: the context that routes hand to
the services, and the parameters several routes parse the same way."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from api.errors import invalid_query_parameter
from api.schemas import BBox
from api.services.context import Context
from geo.study import ProblemFilter


def get_context(request: Request) -> Context:
    """The app's :class:`~api.services.context.Context`: what every service call takes."""
    ctx: Context = request.app.state.context
    return ctx


ContextDep = Annotated[Context, Depends(get_context)]
#: A database id (PostgreSQL ``integer``): larger values cannot exist, so they are a 422.
DbId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Identifier")]


CategoryParam = Annotated[list[str] | None, Query(description="Category codes (default: all)")]
StatusParam = Annotated[list[str] | None, Query(description="Status codes (default: all)")]


def problem_filter(
    date_from: Annotated[date | None, Query(alias="from", description="Default: 1 year")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="Default: today")] = None,
    category: CategoryParam = None,
    status: StatusParam = None,
) -> ProblemFilter:
    """Problems reported in the period (both days included) of the given codes."""
    return ProblemFilter.checked(date_from, date_to, category, status)


ProblemFilterDep = Annotated[ProblemFilter, Depends(problem_filter)]


def parse_bbox(
    bbox: Annotated[
        str | None,
        Query(
            description="minlon,minlat,maxlon,maxlat in WGS84 degrees",
            examples=["6.80,47.60,6.90,47.68"],
        ),
    ] = None,
) -> BBox | None:
    if bbox is None:
        return None
    parts = bbox.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise invalid_query_parameter(
            "bbox", bbox, f"bbox must be four comma-separated numbers, got {bbox!r}"
        ) from None
    if len(values) != 4:
        raise invalid_query_parameter(
            "bbox",
            bbox,
            f"bbox must have 4 numbers (minlon,minlat,maxlon,maxlat), got {len(values)}",
        )
    min_x, min_y, max_x, max_y = values
    if not (
        -180 <= min_x <= 180 and -180 <= max_x <= 180 and -90 <= min_y <= 90 and -90 <= max_y <= 90
    ):
        raise invalid_query_parameter(
            "bbox", bbox, f"bbox {bbox!r} is outside longitudes [-180, 180] / latitudes [-90, 90]"
        )
    if min_x > max_x or min_y > max_y:
        raise invalid_query_parameter(
            "bbox", bbox, f"bbox {bbox!r} has its minimum above its maximum"
        )
    return (min_x, min_y, max_x, max_y)


BBoxDep = Annotated[BBox | None, Depends(parse_bbox)]
