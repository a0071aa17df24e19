"""The bare upload endpoint of ``make bench``: the limit that publication throughput is compared to.

It reads a ``publishMessage`` request exactly as Django reads any multipart body (default upload
handlers, same middleware, same server) and answers 201 without checking or storing anything, so
that "publication / bare" tells how much of the cost is Coffre's own work. It is mounted only when
``COFFRE_BENCH`` is set (``coffre.urls``) and must never be reachable in production.
"""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def bare_upload(request):
    files = request.FILES
    received = {name: upload.size for name, upload in files.items()}
    return JsonResponse(
        {"parts": len(request.POST) + len(received), "bytes": sum(received.values())}, status=201
    )
