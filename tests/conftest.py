import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Each test session builds graphs into its own cache folder."""
    os.environ["OPTIMIZER_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
