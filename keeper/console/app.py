"""The console's Starlette app: GET routes only, server-rendered (Jinja2), one small script for countdowns."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from keeper.console.pages import (
    ClaimFilter,
    check_page,
    claim_page,
    claims_page,
    keeper_page,
    pool_page,
    proposals_page,
    time_left,
)
from keeper.console.sources import ConsoleSource

HERE = Path(__file__).parent
# Nothing on these pages may run another origin's code or be framed: the console is read-only, but it
# shows commands an operator copies into a terminal.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _filter_value(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value or None


def create_app(source: ConsoleSource, decimals: int, symbol: str) -> Starlette:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.autoescape = True
    templates.env.filters["time_left"] = time_left

    def render(request: Request, name: str, context: dict[str, object]) -> Response:
        response = templates.TemplateResponse(request, name, context)
        response.headers.update(SECURITY_HEADERS)
        return response

    async def pool(request: Request) -> Response:
        context = {"page": pool_page(source.pool(), decimals), "symbol": symbol, "nav": "pool"}
        return render(request, "pool.html", context)

    async def pool_chart(request: Request) -> Response:
        # Imported here: matplotlib loads slowly and only this image needs it.
        from operator_toolkit.charts import pool_history_figure, svg_text

        figure = pool_history_figure(source.pool_history(), symbol, decimals)
        response = Response(svg_text(figure), media_type="image/svg+xml")
        response.headers.update(SECURITY_HEADERS)
        return response

    async def proposals(request: Request) -> Response:
        page = proposals_page(source.proposals())
        return render(request, "proposals.html", {"page": page, "nav": "proposals"})

    async def claims(request: Request) -> Response:
        wanted = ClaimFilter(
            status=_filter_value(request, "status"),
            exchange=_filter_value(request, "exchange"),
            trader=_filter_value(request, "trader"),
        )
        page = claims_page(source.claim_rows(), source.now(), decimals, wanted)
        return render(request, "claims.html", {"page": page, "nav": "claims"})

    async def claim(request: Request) -> Response:
        claim_id = int(request.path_params["claim_id"])
        detail = source.claim_detail(claim_id)
        if detail is None:
            return HTMLResponse(f"claim {claim_id} is not in the keeper's store", status_code=404)
        page = claim_page(detail, source.now(), decimals)
        return render(request, "claim.html", {"page": page, "now": source.now(), "nav": "claims"})

    async def recheck(request: Request) -> Response:
        # A GET: the check reads and recomputes, it changes nothing (the same as `keeper evidence check`).
        claim_id = int(request.path_params["claim_id"])
        report = source.recheck(claim_id)
        if report is None:
            return HTMLResponse(f"claim {claim_id} has no stored decision to check", status_code=404)
        page = check_page(claim_id, report)
        return render(request, "check.html", {"page": page, "nav": "claims"})

    async def keeper(request: Request) -> Response:
        page = keeper_page(source.keeper(), source.now())
        return render(request, "keeper.html", {"page": page, "nav": "keeper"})

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    return Starlette(
        routes=[
            Route("/", pool),
            Route("/pool/free-reserved.svg", pool_chart),
            Route("/proposals", proposals),
            Route("/claims", claims),
            Route("/claims/{claim_id:int}", claim),
            Route("/claims/{claim_id:int}/check", recheck),
            Route("/keeper", keeper),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
    )
