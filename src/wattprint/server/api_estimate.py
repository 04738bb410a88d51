"""``/api/estimate``: the ex-ante calculator (hardware x hours, or a FLOP count) and the
life-cycle model ``E_life = CT + T + I·e``, taking the same requests as the CLI."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from wattprint.estimate.requests import FootprintRequest, LifecycleRequest
from wattprint.report.jsonable import jsonable
from wattprint.server import deps
from wattprint.store.repository import Store

__all__ = ["router"]

router = APIRouter(prefix="/api/estimate", tags=["estimate"])


@router.post("")
def estimate(request: FootprintRequest) -> dict[str, Any]:
    """Energy (kWh, with range), emissions and embodied emissions before running, with the
    source of every constant used."""
    return {"quality": "estimated", "estimate": jsonable(request.compute())}


@router.post("/lifecycle")
def lifecycle(
    body: LifecycleRequest, request: Request, store: Annotated[Store, Depends(deps.store)]
) -> dict[str, Any]:
    """Search + training + inferences, from runs of the store (which the request must be
    allowed to read) or numbers, with shares and break-even points."""
    for ref in (*body.training, *body.search, body.inference_run):
        if ref is not None:
            deps.find_run(request, ref)
    return {"quality": "estimated", "lifecycle": jsonable(body.compute(store))}
