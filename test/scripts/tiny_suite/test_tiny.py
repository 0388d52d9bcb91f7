"""A small pytest suite that omnipython must run exactly as python3 does."""
import pytest


def add(a, b):
    return a + b


@pytest.mark.parametrize("a,b,c", [(1, 2, 3), (0, 0, 0), (-1, 1, 0)])
def test_add(a, b, c):
    assert add(a, b) == c


def test_fails_on_purpose():
    assert add(2, 2) == 5


@pytest.fixture
def data():
    return list(range(10))


def test_fixture(data):
    assert sum(data) == 45


@pytest.mark.skip(reason="skipped on purpose")
def test_skipped():
    pass
