"""GET /docs: Swagger UI from this server's files (src/aicity/static/swagger-ui, vendored
swagger-ui-dist 5), started by a script file, so it needs no CDN and no inline script.
/redoc (ReDoc would come from a CDN) leads to /docs."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from aicity.web.render import templates

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    html = templates().get_template("docs.html.j2").render(title=f"{app.title} - API", openapi_url=app.openapi_url)
    return HTMLResponse(html)


@router.get("/redoc")
def redoc() -> RedirectResponse:
    return RedirectResponse("/docs", status_code=307)
