"""HTTP entry points of the authorization server: token, introspection, metadata.

Views only hand the request to Authlib's server (``coffre.oauth.server``). The two POST
endpoints are called by software with a client assertion, never by a browser with a session:
they are exempt from CSRF.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from coffre.oauth.server import authorization_server, authorization_server_metadata


@csrf_exempt
@require_POST
def token(request):
    """RFC 6749 token endpoint: client-credentials grant, ``private_key_jwt`` client authentication."""
    return authorization_server().create_token_response(request)


@csrf_exempt
@require_POST
def introspect(request):
    """RFC 7662 introspection of the caller's own tokens."""
    return authorization_server().create_endpoint_response("introspection", request)


@require_GET
def metadata(request):
    """RFC 8414 authorization server metadata."""
    return JsonResponse(dict(authorization_server_metadata(request)))
