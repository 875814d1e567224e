"""``/static/<hash>/<name>``: our CSS and JavaScript, cached forever (the hash changes with the file)."""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from relance.errors import NotFound
from relance.web.security import STATIC_HEADERS
from screens.base import STATIC

router = Router()


@router.get("/static/<digest>/<name>")
def static_file(digest: str, name: str) -> Response[str]:
    """Text (CSS, JavaScript, SVG), not base64: a REST API decodes base64 only for binary media types."""
    asset = STATIC.find(digest, name)
    if asset is None:
        raise NotFound("no such file")
    return Response(200, asset.content_type, asset.body.decode("utf-8"), headers=dict(STATIC_HEADERS))
