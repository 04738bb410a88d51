"""The dashboard's FastAPI app: the JSON API under ``/api`` (with its OpenAPI schema at
``/openapi.json``), the HTML pages, their static files and Plotly.js, served from the
installed packages (no CDN).

Errors keep the library's meaning: a bad value (``ConfigError``, a request that does not
validate) is 400 with the one-line message, a missing run or job 404, a job in the wrong
state 409; never a 500 for bad input.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

import wattprint
from wattprint.config import Settings
from wattprint.errors import ConfigError, JobStateError, NotFoundError, WattprintError
from wattprint.jobs.manager import JobManager
from wattprint.server import (
    api_bench,
    api_compare,
    api_estimate,
    api_ingest,
    api_jobs,
    api_runs,
    pages,
)
from wattprint.server.auth import COOKIE, AccessPolicy
from wattprint.store.access import AccessStore
from wattprint.store.repository import Store
from wattprint.validation import explain

__all__ = ["create_app", "plotly_js"]

STATIC = Path(__file__).parent / "static"
_STATUS = {ConfigError: 400, NotFoundError: 404, JobStateError: 409}
_OPEN_PATHS = ("/login", "/static/")


def plotly_js() -> Path:
    """Plotly.js as the ``plotly`` Python package ships it."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ConfigError("the dashboard needs plotly: pip install 'wattprint[ui]'")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


def create_app(settings: Settings, policy: AccessPolicy) -> FastAPI:
    """The dashboard over the store ``settings`` name, guarded by ``policy``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            app.state.jobs.close()
            app.state.store.close()

    app = FastAPI(
        title="wattprint",
        version=wattprint.__version__,
        description="Energy and carbon of deep-learning runs: runs, comparisons, "
        "benchmarks, estimates and jobs.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = Store.from_settings(settings)
    policy = replace(policy, team=AccessStore(app.state.store))
    app.state.policy = policy
    app.state.jobs = JobManager(settings)
    for router in (api_runs, api_compare, api_bench, api_estimate, api_jobs, api_ingest, pages):
        app.include_router(router.router)
    _add_vendor_and_login(app, policy)  # before /static, which would shadow the vendor path
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_error_handlers(app)
    _add_access(app, policy)
    return app


def _add_vendor_and_login(app: FastAPI, policy: AccessPolicy) -> None:
    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(plotly_js(), media_type="text/javascript")

    @app.get("/login", include_in_schema=False)
    def login(token: str, next: str = "/") -> Response:
        """Keep the token in a cookie for this browser, then go to ``next`` (a local path)."""
        if not policy.valid(token):
            raise HTTPException(403, "wrong access token")
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response


def _add_error_handlers(app: FastAPI) -> None:
    def library_error(request: Request, exc: Exception) -> JSONResponse:
        status = next((s for t, s in _STATUS.items() if isinstance(exc, t)), 400)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{**e, "loc": tuple(e["loc"])[1:]} for e in exc.errors()]
        return JSONResponse(
            {"detail": explain(errors, _body_model(request), "request")}, status_code=400
        )

    app.add_exception_handler(WattprintError, library_error)
    app.add_exception_handler(RequestValidationError, invalid_request)


def _body_model(request: Request) -> type[BaseModel] | None:
    """The pydantic model of the route's JSON body, to list its options."""
    route: Any = request.scope.get("route")
    for param in getattr(getattr(route, "dependant", None), "body_params", ()):
        annotation = getattr(param.field_info, "annotation", None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
    return None


def _add_access(app: FastAPI, policy: AccessPolicy) -> None:
    """Resolve who each request acts for once (``request.state.principal``); refuse it
    here when a token is needed and missing or wrong."""

    @app.middleware("http")
    async def access(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if not request.url.path.startswith(_OPEN_PATHS):
            try:
                request.state.principal = await run_in_threadpool(policy.principal, request)
            except HTTPException as exc:
                if request.url.path.startswith("/api/"):
                    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
                return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        return await call_next(request)
