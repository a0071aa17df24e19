"""Error pages: JSON StatusMessage for the machine interfaces, plain pages for people."""

from django.views.defaults import page_not_found, server_error

from coffre.core.errors import is_machine_path, status_message


def _is_machine(request) -> bool:
    return is_machine_path(request.path)


def not_found(request, exception=None):
    if _is_machine(request):
        return status_message(404, "NOT_FOUND", f"No resource at {request.path}.")
    return page_not_found(request, exception)


def error(request):
    if _is_machine(request):
        return status_message(500, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged.")
    return server_error(request)
