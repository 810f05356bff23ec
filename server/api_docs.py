"""The API docs at /schema: Swagger UI served from web/static/vendor/, so they work offline.

Litestar's own viewers load their scripts, styles, fonts and favicon from CDNs. Here one
viewer, Swagger UI, comes from the package (web/static/vendor/README.md says where its files
came from), and its page runs one fixed inline script, allowed by its hash in the page's
Content-Security-Policy (`DOCS_CSP`, set by server/auth/headers.py): nothing else runs and
nothing is fetched from another origin. /schema and /schema/swagger show it;
/schema/openapi.json is the document itself. The other viewers (Redoc, Elements, RapiDoc,
Scalar) are not served.

Every error answer is a problem (RFC 9457, server/errors.py); Litestar documents its own
400s in its older format, so the document is rewritten as it is served (`with_problems`):
each 4xx/5xx response, and a `default` one on every operation, is `application/problem+json`
with the `Problem` schema.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
from typing import Any

import msgspec
from litestar import Request
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin

from server.errors import PROBLEM_JSON, Problem

DOCS_PATH = "/schema"
VENDOR = "/static/vendor/swagger-ui"

# Fixed text, so its hash is fixed too. "Try it out" sends the console's CSRF token
# (server/auth/middleware.py), so a coach signed in on this browser can call any route.
INIT_SCRIPT = """
window.addEventListener("load", function () {
  function csrf() {
    var found = document.cookie.split("; ").find(function (c) {
      return c.indexOf("agility_csrf=") === 0;
    });
    return found ? decodeURIComponent(found.slice("agility_csrf=".length)) : undefined;
  }
  window.ui = SwaggerUIBundle({
    url: "/schema/openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      var token = csrf();
      if (token !== undefined) request.headers["X-CSRF-Token"] = token;
      return request;
    }
  });
});
"""

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(INIT_SCRIPT.encode()).digest()).decode()

DOCS_CSP = (
    f"default-src 'self'; script-src 'self' 'sha256-{_SCRIPT_HASH}'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class OfflineSwaggerPlugin(OpenAPIRenderPlugin):
    """Swagger UI from /static/vendor/, started by INIT_SCRIPT."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">\n'
            f'<link rel="stylesheet" href="{VENDOR}/swagger-ui.css">\n'
            f'<script src="{VENDOR}/swagger-ui-bundle.js"></script>\n'
            f"<script>{INIT_SCRIPT}</script>\n"
            '</head>\n<body>\n<div id="swagger-ui"></div>\n</body>\n</html>\n'
        ).encode()


def with_problems(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every error response as the problem the server really answers; a
    route's own problem (a 409 with the tag's holder) keeps its schema."""
    document = copy.deepcopy(document)
    (problem_ref,), schemas = msgspec.json.schema_components(
        [Problem], ref_template="#/components/schemas/{name}"
    )
    document.setdefault("components", {}).setdefault("schemas", {}).update(schemas)
    problem = {"content": {PROBLEM_JSON: {"schema": problem_ref}}}
    for path in document.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                if (
                    status.isdigit()
                    and int(status) >= 400
                    and PROBLEM_JSON not in response.get("content", {})
                ):
                    response.update(problem)
            responses.setdefault("default", {"description": "an error: a problem", **problem})
    return document


class ProblemJsonRenderPlugin(JsonRenderPlugin):
    """/schema/openapi.json, with the error responses as they are (`with_problems`)."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, with_problems(openapi_schema))


def openapi_config(title: str, version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title=title,
        version=version,
        path=DOCS_PATH,
        render_plugins=[OfflineSwaggerPlugin(), ProblemJsonRenderPlugin()],
    )
