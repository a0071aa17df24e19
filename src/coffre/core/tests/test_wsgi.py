"""The WSGI entry point loads the URLconf before the first request and freezes it out of the GC."""

import os
import subprocess
import sys


def test_the_wsgi_application_starts_loaded_and_frozen(tmp_path):
    script = (
        "import gc, sys\n"
        "import coffre.wsgi\n"
        "assert 'coffre.api.consultation' in sys.modules, 'the API is not loaded yet'\n"
        "assert gc.get_freeze_count() > 10000, gc.get_freeze_count()\n"
    )
    env = {**os.environ, "COFFRE_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
