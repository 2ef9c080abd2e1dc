"""Fixtures of the stella Python tests: unique segment names (removed afterwards, also on
failure) and the capi_cxx_peer helper (tests/capi), a C++ process on the same ring."""
import itertools
import os
import shutil

import pytest

stella = pytest.importorskip("stella", reason="the stella module is not on PYTHONPATH (build bindings/python)")

_counter = itertools.count()


@pytest.fixture
def names():
    """names() -> a fresh segment name; every ring and blob of that name is removed at the end."""
    made = []

    def make():
        name = f"pytest.{os.getpid()}.{next(_counter)}"
        made.append(name)
        return name

    yield make
    for name in made:
        stella.MultiWriterCircularBuffer.remove(name)
        stella.SharedMemory.remove(name)


@pytest.fixture
def cxx_peer():
    path = os.environ.get("STELLA_CAPI_CXX_PEER") or shutil.which("capi_cxx_peer")
    if not path or not os.path.exists(path):
        pytest.skip("capi_cxx_peer (tests/capi) not found: set STELLA_CAPI_CXX_PEER")
    return path


@pytest.fixture
def python():
    return os.environ.get("STELLA_TEST_PYTHON", "/usr/bin/python3")
