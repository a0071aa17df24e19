"""The WSGI application that the production server (gunicorn) runs.

Everything long-lived is loaded here, before the first request, then frozen out of the garbage
collector's reach (``gc.freeze``): otherwise every full collection walks the hundred thousand
objects of Django, the URLconf and the API schemas again, a pause of tens of milliseconds on
some unlucky request (docs/benchmarks.md).
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coffre.settings")
application = get_wsgi_application()

_ = get_resolver().url_patterns  # imports every view and router now rather than on the first request
gc.freeze()
