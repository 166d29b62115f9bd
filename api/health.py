"""Liveness, readiness and metrics for orchestrators and monitoring."""

from __future__ import annotations

import hmac

from anyio import to_thread
from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from core.metrics import render
from core.migrate import is_at_head

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", response_model=None)
def ready(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    checks: dict[str, bool] = {}
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = True
        checks["migrations"] = is_at_head(engine)
    except SQLAlchemyError:
        checks["database"] = False
        checks["migrations"] = False
    checks["nlu"] = request.app.state.classifier is not None
    checks["content"] = request.app.state.library is not None
    ok = all(checks.values())
    return JSONResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, authorization: str | None = Header(default=None)) -> Response:
    """Prometheus exposition; with LOTSE_METRICS_TOKEN set, only for `Bearer <token>`."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        expected = f"Bearer {token.get_secret_value()}".encode()
        if not hmac.compare_digest((authorization or "").encode(), expected):
            raise HTTPException(status_code=401, detail="metrics need the bearer token")
    body, content_type = await to_thread.run_sync(render, request.app.state.engine)
    return Response(body, media_type=content_type)
