"""The world of the OGC API tests, shared by a module: the demo as shipped (adopted
plans, fictitious problems and requests), served on loopback, with one token per role
(the chef bound to one GPO, the commune to one commune, the planner to the first CSP).
Built once per module, since loading the demo takes seconds: the tests only read it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from api.config import Settings
from api.db import make_session_factory
from api.models import AuditRequest, Gpo, ProblemPlace
from api.services.context import Context
from api.services.demo import load_demo
from tests.conftest import DEMO_DIR, _truncate, serving
from tests.roles import bearer_for


@dataclass
class OgcWorld:
    url: str  # the app's base URL (http://127.0.0.1:port)
    factory: sessionmaker[Session]
    headers: dict[str, dict[str, str]]
    ids: dict[str, Any]
    settings: Settings

    def session(self) -> Session:
        return self.factory()


@pytest.fixture(scope="module")
def ogc_world(
    engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OgcWorld]:
    _truncate(engine)
    factory = make_session_factory(engine)
    ctx = Context(factory)
    load_demo(ctx, demo_dir=DEMO_DIR, extras=False)
    with factory() as session:
        csp_id, gpo_id = session.execute(
            select(Gpo.csp_id, Gpo.id)
            .join(ProblemPlace, ProblemPlace.gpo_id == Gpo.id)
            .where(Gpo.kind == "sector")
            .order_by(Gpo.id)
            .limit(1)
        ).one()
        commune = session.scalar(select(AuditRequest.commune_code).limit(1))
    headers = {
        "admin": bearer_for(ctx, "admin"),
        "planificateur": bearer_for(ctx, "planificateur", csp_ids=[csp_id]),
        "chef": bearer_for(ctx, "chef", gpo_ids=[gpo_id]),
        "commune": bearer_for(ctx, "commune", commune_codes=[commune]),
    }
    var: Path = tmp_path_factory.mktemp("ogc-var")
    settings = Settings(database_url=database_url, var_dir=var, demo_dir=DEMO_DIR)
    ids = {"csp_id": csp_id, "gpo_id": gpo_id, "commune": commune}
    try:
        with serving(settings) as url:
            yield OgcWorld(url, factory, headers, ids, settings)
    finally:
        _truncate(engine)
