"""Request rules every API route shares: bounded integers and no unknown query parameters.

- `BoundedInt`: the type of every integer a request may carry (path, query, JSON body). Its range is the
  JSON-safe ±(2**53 - 1) (RFC 8259 §6: beyond it numbers lose precision between implementations); both
  databases store ids as 64-bit integers at most, and a bigger value used to reach the driver and fail with
  a 500. The bound is declared in the OpenAPI document and answered with 422 like any invalid input;
  tests/test_api_contract.py checks that no request integer in the document lacks it.
- `reject_unknown_query`: one dependency of every API router that compares the request's query keys with
  the parameters the matched route (and its dependencies) declare, and refuses the others with 422 naming
  them (`?tag=vip` on a list without a `tag` filter must not silently return everything).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import annotated_types
from fastapi.dependencies.models import Dependant
from starlette.requests import HTTPConnection

from helpline.platform.errors import Invalid

JSON_SAFE_MAX = 2**53 - 1
BoundedInt = Annotated[int, annotated_types.Ge(-JSON_SAFE_MAX), annotated_types.Le(JSON_SAFE_MAX)]
API_PREFIX = "/api/"


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


_declared_cache: dict[int, frozenset[str]] = {}


def declared_query_keys(route: Any) -> frozenset[str]:
    """The query parameter names (aliases) the route and its dependencies declare."""
    cached = _declared_cache.get(id(route))
    if cached is None:
        cached = frozenset(
            field.alias for dependant in _dependants(route.dependant) for field in dependant.query_params
        )
        _declared_cache[id(route)] = cached
    return cached


async def reject_unknown_query(connection: HTTPConnection) -> None:
    """Dependency of every API router: 422 `unknown_query_parameter` naming each query key the route does not
    declare."""
    route = connection.scope.get("route")
    # An APIRoute, or (routes of included routers) FastAPI's per-inclusion context with the same `dependant`.
    if not isinstance(getattr(route, "dependant", None), Dependant) or not connection.url.path.startswith(API_PREFIX):
        return
    unknown = sorted(set(connection.query_params.keys()) - declared_query_keys(route))
    if unknown:
        names = ", ".join(repr(name[:60]) for name in unknown[:10])
        raise Invalid(
            f"unknown query parameter{'s' if len(unknown) > 1 else ''}: {names}; "
            f"this endpoint accepts: {', '.join(sorted(declared_query_keys(route))) or 'none'}",
            code="unknown_query_parameter",
            details={"unknown": unknown[:10]},
        )


def parse_int(text: str) -> int | None:
    """`text` as an integer in the bounded range, or None. ASCII digits only: `str.isdigit()` accepts `²` and
    `٣`, which `int()` then refuses or reads as another number."""
    if not text or len(text) > 16 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= JSON_SAFE_MAX else None
