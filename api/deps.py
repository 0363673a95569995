"""FastAPI dependencies, exposed as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.editors import EditorCache
from api.errors import invalid_query_parameter
from api.jobs import JobRunner
from api.map_cache import MapCache
from api.repositories.hotspots import ProblemFilter
from api.schemas import BBox


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


def get_session_factory(request: Request) -> sessionmaker[Session]:
    """For use cases that own their transaction (imports, builds)."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def get_job_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.job_runner
    return runner


def get_editor_cache(request: Request) -> EditorCache:
    cache: EditorCache = request.app.state.editor_cache
    return cache


def get_map_cache(request: Request) -> MapCache[Any]:
    cache: MapCache[Any] = request.app.state.map_cache
    return cache


MapCacheDep = Annotated[MapCache[Any], Depends(get_map_cache)]
EditorCacheDep = Annotated[EditorCache, Depends(get_editor_cache)]
JobRunnerDep = Annotated[JobRunner, Depends(get_job_runner)]
SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]
#: A database id (PostgreSQL ``integer``): larger values cannot exist, so they are a 422.
DbId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Identifier")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
SessionDep = Annotated[Session, Depends(get_session)]


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
