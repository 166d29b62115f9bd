"""Errors as application/problem+json (RFC 9457), mapped from the domain error tree in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler as default_http_handler,
)
from fastapi.exception_handlers import (
    request_validation_exception_handler as default_validation_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import (
    Conflict,
    ConsentRequired,
    InvalidInput,
    LotseError,
    NotFound,
    PermissionDenied,
)

PROBLEM = "application/problem+json"
API_PREFIX = "/api/v1"
DASHBOARD_PREFIX = "/dashboard"
TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
}
STATUS_BY_ERROR: tuple[tuple[type[LotseError], int], ...] = (
    (NotFound, 404),
    (PermissionDenied, 403),
    (Conflict, 409),
    (ConsentRequired, 409),
    (InvalidInput, 422),
)


class Unauthenticated(PermissionDenied):
    """No or an invalid credential: 401 (PermissionDenied alone means 403)."""

    code = "unauthenticated"


def problem(status: int, detail: str, code: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://lotse.invalid/problems/{code or status}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if code:
        body["code"] = code
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="lotse"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_for(error: LotseError) -> int:
    if isinstance(error, Unauthenticated):
        return 401
    for kind, status in STATUS_BY_ERROR:
        if isinstance(error, kind):
            return status
    return 400


def _ours(request: Request) -> bool:
    path = request.url.path
    return path.startswith((API_PREFIX, DASHBOARD_PREFIX))


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'reason') -> 'reason'; ('query', 'from') -> 'from'."""
    parts = [str(p) for p in location if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or ".".join(str(p) for p in location)


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LotseError)
    status = status_for(exc)
    if request.url.path.startswith(DASHBOARD_PREFIX) and status == 401:
        return RedirectResponse(f"{DASHBOARD_PREFIX}/login", status_code=303)
    return problem(status, str(exc) or exc.code, exc.code)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if not _ours(request):
        return await default_validation_handler(request, exc)
    errors = [
        {"field": _field(e.get("loc", ())), "message": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, detail, "validation_error", errors=errors)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if not _ours(request):
        return await default_http_handler(request, exc)
    if request.url.path.startswith(DASHBOARD_PREFIX) and exc.status_code == 401:
        return RedirectResponse(f"{DASHBOARD_PREFIX}/login", status_code=303)
    return problem(exc.status_code, str(exc.detail))


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LotseError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
