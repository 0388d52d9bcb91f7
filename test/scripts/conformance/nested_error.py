def inner(x):
    return 1 / x

def outer():
    try:
        inner(0)
    except ZeroDivisionError as e:
        raise ValueError("wrapped") from e

outer()
