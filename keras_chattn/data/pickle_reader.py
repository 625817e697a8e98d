"""Reads the official CIFAR pickles without unpickling them.

A pickle is a program for Python's unpickler, which can call any global it
names. This module never runs one: it walks the file's opcodes
(`pickletools.genops`) with a stack of plain values, accepts only what the
official CIFAR files and NumPy's own array pickles contain (dicts, lists,
tuples, strings, bytes, small integers, and arrays described by
`_reconstruct` + `BUILD` or `_frombuffer`), and builds each array with
`np.frombuffer` from its byte payload, whose length must equal the array's
declared size. So, by construction:

- no code from the file runs (a global is a name compared with a short list,
  never imported or called);
- nothing is allocated beyond what the file holds (every string, bytes and
  array is a slice of the file; shared references are never expanded);
- nothing recurses (the walk is a loop; containers nest at most
  `MAX_DEPTH` deep, so checking them cannot recurse far either);
- every step is linear in the file (strings are decoded as latin-1 by
  Python's own codec, never through `_codecs.encode` with the file's
  encoding name).

Anything else ends in `PickleRefused`, which says what was found where.
"""

import pickletools

import numpy as np

# Dict -> list (or tuple) -> scalar, plus a level for the tuples that
# describe an array: what a CIFAR batch needs.
MAX_DEPTH = 4
# Integers as wide as a 64-bit value at most (LONG1/LONG4 can hold any).
MAX_INT_BYTES = 8
# The arrays a CIFAR file holds: at most 2-D.
MAX_ARRAY_DIMENSIONS = 2

_RECONSTRUCT = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
}
_FROMBUFFER = {
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
}
_NDARRAY = ("numpy", "ndarray")
_DTYPE = ("numpy", "dtype")
_ENCODE = ("_codecs", "encode")
_BYTES = {("builtins", "bytes"), ("__builtin__", "bytes")}
_KNOWN_GLOBALS = {
    *_RECONSTRUCT,
    *_FROMBUFFER,
    _NDARRAY,
    _DTYPE,
    _ENCODE,
    *_BYTES,
}
_LATIN1 = ("latin1", "latin-1", "iso-8859-1")
# dtypes an array may have (a CIFAR file's images are uint8, its labels
# integers; the caller checks which it got).
_DTYPES = (
    "b1", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f2", "f4", "f8",
)  # fmt: skip


class PickleRefused(ValueError):
    """The file holds something a CIFAR file does not."""


class PickleMalformed(PickleRefused):
    """The file is not a complete pickle (truncated or corrupt)."""


class _Mark:
    pass


_MARK = _Mark()


class _Global:
    def __init__(self, module, name):
        self.key = (module, name)

    def __repr__(self):
        return ".".join(self.key)


class _PendingArray:
    """`_reconstruct(ndarray, ...)` before its `BUILD` gives it a state."""


class _PendingDtype:
    def __init__(self, code):
        self.code = code


class _Depth:
    """Nesting depths of the containers built so far (by id)."""

    def __init__(self):
        # id -> (container, depth): holding the container keeps its id from
        # being reused by a later one.
        self.depths = {}

    def of(self, value):
        return self.depths.get(id(value), (None, 0))[1]

    def contain(self, container, values, offset):
        depth = max((self.of(v) for v in values), default=0) + 1
        depth = max(depth, self.of(container))
        if depth > MAX_DEPTH:
            raise PickleRefused(
                f"containers nested more than {MAX_DEPTH} deep at byte "
                f"{offset}: a CIFAR file holds a dict of lists and arrays"
            )
        self.depths[id(container)] = (container, depth)


def read(raw):
    """The value a CIFAR pickle `raw` (bytes) describes, built from its
    opcodes without unpickling (see the module docstring).

    Examples:

        >>> import pickle
        >>> import numpy as np
        >>> batch = {b"data": np.arange(6, dtype="uint8").reshape(2, 3),
        ...          b"labels": [1, 2]}
        >>> found = read(pickle.dumps(batch, protocol=2))
        >>> found[b"data"].tolist(), found[b"labels"]
        ([[0, 1, 2], [3, 4, 5]], [1, 2])
        >>> try:
        ...     read(b"cos\\nsystem\\n(S'ls'\\ntR.")
        ... except PickleRefused as refused:
        ...     print(str(refused)[:30])
        the global os.system at byte 0
    """
    stack = []
    memo = {}
    depth = _Depth()
    result = None
    try:
        for opcode, argument, offset in pickletools.genops(raw):
            result = _step(opcode.name, argument, offset, stack, memo, depth)
            if result is not None:
                break
    except PickleRefused:
        raise
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise PickleMalformed(str(error)) from None
    if result is None:
        raise PickleMalformed("the pickle ends without a STOP")
    value = result[0]
    if isinstance(value, (_Global, _PendingArray, _PendingDtype, _Mark)):
        raise PickleRefused(f"the pickle describes {value!r}, not a batch")
    return value


def _pop_mark(stack, offset):
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] is _MARK:
            items = stack[index + 1 :]
            del stack[index:]
            return items
    raise PickleRefused(f"no MARK for the opcode at byte {offset}")


def _step(name, argument, offset, stack, memo, depth):
    """Applies one opcode; returns `(value,)` at STOP, else None."""
    if name in ("PROTO", "FRAME"):
        return None
    if name == "STOP":
        if len(stack) != 1:
            raise PickleRefused(f"{len(stack)} values left at STOP")
        return (stack[0],)
    if name == "MARK":
        stack.append(_MARK)
    elif name in ("EMPTY_DICT", "EMPTY_LIST", "EMPTY_TUPLE"):
        stack.append(
            {"EMPTY_DICT": {}, "EMPTY_LIST": [], "EMPTY_TUPLE": ()}[name]
        )
    elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
        stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
    elif name in ("BININT", "BININT1", "BININT2"):
        stack.append(int(argument))
    elif name in ("LONG1", "LONG4"):
        if abs(argument).bit_length() > 8 * MAX_INT_BYTES:
            raise PickleRefused(f"an integer wider than 64 bits at {offset}")
        stack.append(int(argument))
    elif name in ("BINSTRING", "SHORT_BINSTRING"):
        # Python 2 str: its bytes (the official files' keys and data).
        stack.append(argument.encode("latin1"))
    elif name in ("BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
        stack.append(bytes(argument))
    elif name in ("BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"):
        stack.append(str(argument))
    elif name in ("TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
        if name == "TUPLE":
            items = _pop_mark(stack, offset)
        else:
            count = int(name[-1])
            if len(stack) < count:
                raise PickleRefused(f"{name} on a short stack at {offset}")
            items = stack[-count:]
            del stack[-count:]
        value = tuple(items)
        depth.contain(value, items, offset)
        stack.append(value)
    elif name in ("APPEND", "APPENDS"):
        items = [stack.pop()] if name == "APPEND" else _pop_mark(stack, offset)
        target = stack[-1]
        if not isinstance(target, list):
            raise PickleRefused(f"{name} onto a non-list at byte {offset}")
        depth.contain(target, items, offset)
        target.extend(items)
    elif name in ("SETITEM", "SETITEMS"):
        items = stack[-2:] if name == "SETITEM" else _pop_mark(stack, offset)
        if name == "SETITEM":
            del stack[-2:]
        target = stack[-1]
        if not isinstance(target, dict) or len(items) % 2:
            raise PickleRefused(f"{name} onto a non-dict at byte {offset}")
        keys = items[0::2]
        if any(not isinstance(k, (bytes, str, int)) for k in keys):
            raise PickleRefused(f"a dict key that is not a name at {offset}")
        depth.contain(target, items[1::2], offset)
        target.update(zip(keys, items[1::2], strict=True))
    elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
        memo[int(argument)] = stack[-1]
    elif name == "MEMOIZE":
        memo[len(memo)] = stack[-1]
    elif name in ("BINGET", "LONG_BINGET", "GET"):
        if int(argument) not in memo:
            raise PickleRefused(f"a memo entry never stored, at {offset}")
        stack.append(memo[int(argument)])
    elif name in ("GLOBAL", "STACK_GLOBAL"):
        if name == "GLOBAL":
            module, _, attribute = argument.partition(" ")
        else:
            module, attribute = stack[-2], stack[-1]
            del stack[-2:]
        if (module, attribute) not in _KNOWN_GLOBALS:
            raise PickleRefused(
                f"the global {module}.{attribute} at byte {offset}: a CIFAR "
                "file names only NumPy's array constructors"
            )
        stack.append(_Global(module, attribute))
    elif name == "REDUCE":
        arguments = stack.pop()
        function = stack.pop()
        stack.append(_reduce(function, arguments, offset))
    elif name == "BUILD":
        state = stack.pop()
        stack.append(_build(stack.pop(), state, offset))
    elif name == "POP":
        stack.pop()
    else:
        raise PickleRefused(
            f"the opcode {name} at byte {offset}, which a CIFAR file does "
            "not use"
        )
    return None


def _reduce(function, arguments, offset):
    """A call the file asks for, answered without calling anything."""
    if not isinstance(function, _Global) or not isinstance(arguments, tuple):
        raise PickleRefused(f"a call of {function!r} at byte {offset}")
    key = function.key
    if key in _RECONSTRUCT:
        # NumPy's protocol 0-4 array: _reconstruct(ndarray, (0,), b"b").
        if (
            len(arguments) == 3
            and isinstance(arguments[0], _Global)
            and arguments[0].key == _NDARRAY
        ):
            return _PendingArray()
    elif key == _DTYPE:
        # dtype(code, align, copy): the code as text (Python 2's str
        # arrives as bytes).
        code = arguments[0] if arguments else None
        if isinstance(code, bytes):
            code = code.decode("latin1")
        if len(arguments) == 3 and code in _DTYPES:
            return _PendingDtype(code)
    elif key == _ENCODE:
        # How Python 3 pickles bytes in protocol 2: latin-1, and only that.
        if (
            len(arguments) == 2
            and isinstance(arguments[0], str)
            and arguments[1] in _LATIN1
        ):
            try:
                return arguments[0].encode("latin1")
            except UnicodeEncodeError:
                pass
    elif key in _BYTES:
        # bytes() for b"" (protocol 2), never bytes(size).
        if not arguments:
            return b""
    elif key in _FROMBUFFER:
        # NumPy's protocol-5 array: _frombuffer(buffer, dtype, shape, order).
        if len(arguments) == 4 and isinstance(arguments[1], _PendingDtype):
            buffer, dtype, shape, order = arguments
            return _array(buffer, dtype.code, shape, order == "F", offset)
    raise PickleRefused(
        f"a call of {function!r} with {_describe(arguments)} at byte {offset}"
    )


def _build(target, state, offset):
    if isinstance(target, _PendingDtype):
        if isinstance(state, tuple) and len(state) >= 2:
            order = state[1]
            if isinstance(order, bytes):
                order = order.decode("latin1")
            if order not in ("|", "<", "="):
                raise PickleRefused(f"a big-endian dtype at byte {offset}")
        return target
    if isinstance(target, _PendingArray):
        # (version, shape, dtype, is_fortran, raw data)
        if (
            isinstance(state, tuple)
            and len(state) == 5
            and isinstance(state[2], _PendingDtype)
        ):
            _, shape, dtype, fortran, data = state
            return _array(data, dtype.code, shape, bool(fortran), offset)
    raise PickleRefused(f"a BUILD of {target!r} at byte {offset}")


def _array(data, code, shape, fortran, offset):
    """The array of `shape` and dtype `code` over `data`'s bytes, whose
    length must be exactly the array's size."""
    if (
        not isinstance(data, (bytes, bytearray))
        or not isinstance(shape, tuple)
        or len(shape) > MAX_ARRAY_DIMENSIONS
        or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0
            for n in shape
        )
    ):
        raise PickleRefused(
            f"an array with {_describe((shape, data))} at byte {offset}"
        )
    dtype = np.dtype(code)
    size = dtype.itemsize
    for n in shape:
        size *= n
    if size != len(data):
        raise PickleRefused(
            f"an array of shape {shape} and dtype {dtype} ({size:,} bytes) "
            f"over {len(data):,} bytes of data at byte {offset}"
        )
    array = np.frombuffer(data, dtype=dtype)
    return array.reshape(shape, order="F" if fortran else "C")


def _describe(values):
    kinds = ", ".join(type(v).__name__ for v in values)
    return f"arguments ({kinds})"
