"""Mounts the case-management API and the dashboard onto the service's FastAPI app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.dashboard import router as dashboard_router
from api.problems import install_problem_handlers
from api.routes import router as api_router

STATIC = Path(__file__).with_name("static")


def include_api(app: FastAPI) -> None:
    """Routers, problem+json error handlers and the dashboard's static files.

    Reads app.state.engine and app.state.settings; app.state.translator (optional, with
    `supports(source, target)` and `translate(text, source, target)`) adds German machine
    translations of the person's own words.
    """
    if not hasattr(app.state, "translator"):
        app.state.translator = None
    install_problem_handlers(app)
    app.include_router(api_router)
    app.include_router(dashboard_router)
    app.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")
