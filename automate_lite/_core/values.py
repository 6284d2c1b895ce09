"""Plain values that cross the boundary between the sans-IO core and a transport.

Nothing from urllib3, aiohttp or httpx ever travels upward: a transport turns its
library's response into a :class:`Response` and its library's exceptions into
:class:`~automate_lite.errors.TransportError` subclasses.

The values are tuples underneath (see ``_Value``), and assigning to one raises
:class:`FrozenError`. ``dataclasses`` is not used here: building its classes costs a few
milliseconds on every ``import automate_lite``, which serverless cold starts pay. (The
settings objects, ``RetryPolicy``, ``Session`` and ``PollSettings``, are frozen
dataclasses loaded with the clients, on first use.)
"""

from __future__ import annotations

import collections
import enum
import json
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Final, Literal, Mapping, TypeVar, Union, final

if TYPE_CHECKING:
    # Tells type checkers that subclasses are frozen, dataclass-like records (assigning
    # a field is an error) whose __init__ is the one written by hand.
    from typing_extensions import Self, dataclass_transform
else:

    def dataclass_transform(**kwargs: Any) -> Any:
        return lambda cls: cls


__all__ = ["MISSING", "MissingType", "FrozenError", "Request", "Response", "Sleep", "Call", "Instruction"]

_T = TypeVar("_T")


class _Missing(enum.Enum):
    """The one-member enum behind :data:`MISSING`.

    An enum member, not a plain object, so type checkers know it is the only value of
    its type: a parameter reads ``str | MissingType`` and ``if x is not MISSING``
    narrows it to ``str``. (``enum`` is already loaded by ``re`` on the import path.)
    """

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


#: "Not given": the field is left out of the request body. ``None`` means send ``null``.
MISSING: Final = _Missing.MISSING
#: The type of :data:`MISSING`, for annotations: ``label: str | MissingType = MISSING``.
MissingType = Literal[_Missing.MISSING]


class FrozenError(AttributeError):
    """An attempt to set or delete an attribute of an immutable automate-lite object.

    Raised by the per-request values (:class:`Request`, :class:`Response`, the
    instructions), which never change once made; make a changed one with
    ``copy.replace`` (3.13+) or ``value.__replace__(...)``. (Clients, sessions and
    policies are frozen dataclasses: they raise ``dataclasses.FrozenInstanceError``.)
    """


def _frozen(self: object, name: str, verb: str) -> FrozenError:
    hint = "; make a changed copy with .replace(...)" if hasattr(type(self), "replace") else ""
    return FrozenError(f"cannot {verb} field {name!r}: {type(self).__name__} is immutable{hint}")


# -- the values that cross the transport boundary --------------------------------------
#
# Request and Response are made for every HTTP exchange, so, like a NamedTuple, they are
# tuples underneath: about twice as fast to make as a slotted class. They are written
# out rather than made with typing.NamedTuple, which exec()s generated code for each
# class at import. They compare only with their own type (Request(...) == ("GET", ...)
# is False) and have no order; being tuples, they do have len(), iteration and indexing.

_tuple_new = tuple.__new__
_tuplegetter: Callable[[int, str | None], Any] = getattr(collections, "_tuplegetter", None) or (
    lambda index, doc: property(lambda self: tuple.__getitem__(self, index), doc=doc)
)


def _fields(*names: str) -> Callable[[type[_T]], type[_T]]:
    """Give a :class:`_Value` subclass its named, read-only fields (positions in the tuple).

    They replace the class's annotations' defaults, which are there for type checkers
    (the real defaults are ``__new__``'s).
    """

    def install(cls: type[_T]) -> type[_T]:
        for index, name in enumerate(names):
            setattr(cls, name, _tuplegetter(index, None))
        setattr(cls, "__match_args__", names)
        return cls

    return install


@dataclass_transform(frozen_default=True)
class _Value(tuple[Any, ...]):
    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    if not TYPE_CHECKING:

        def __setattr__(self, name: str, value: Any) -> None:
            raise _frozen(self, name, "assign to")

        def __delattr__(self, name: str) -> None:
            raise _frozen(self, name, "delete")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return tuple.__eq__(self, other)
        # A plain tuple (or another value) would otherwise compare item by item.
        return False if isinstance(other, tuple) else NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = tuple.__hash__

    def _unordered(self, other: object) -> bool:
        raise TypeError(f"{type(self).__name__} values have no order")

    __lt__ = __le__ = __gt__ = __ge__ = _unordered

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self.__match_args__, self))
        return f"{type(self).__qualname__}({fields})"

    def __getnewargs__(self) -> tuple[Any, ...]:  # copy and pickle call __new__ with these
        return tuple(self)

    def __replace__(self, /, **changes: Any) -> Self:
        """A copy with ``changes`` (what ``copy.replace`` calls)."""
        return type(self)(**{**dict(zip(self.__match_args__, self)), **changes})


def _redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() == "authorization" else v) for k, v in headers.items()}


@final
@_fields("method", "url", "headers", "body", "deadline")
class Request(_Value):
    """One HTTP request the core wants sent.

    ``headers`` may hold an ``Authorization`` header; it is never shown by ``repr``.
    ``deadline`` is the call's deadline as a ``time.monotonic()`` reading, or ``None``
    (see ``RetryPolicy.deadline``): the drivers cut the attempt's timeout to what
    remains, and a transport may cut each read to it.
    """

    __slots__ = ()
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    deadline: float | None = None

    def __new__(
        cls, method: str, url: str, headers: Mapping[str, str], body: bytes | None = None, deadline: float | None = None
    ) -> Request:
        return _tuple_new(cls, (method, url, headers, body, deadline))

    def __repr__(self) -> str:
        size = "None" if self.body is None else f"<{len(self.body)} bytes>"
        return (
            f"Request(method={self.method!r}, url={self.url!r}, "
            f"headers={_redact_headers(self.headers)!r}, body={size}, deadline={self.deadline!r})"
        )


@final
@_fields("status", "headers", "body")
class Response(_Value):
    """One HTTP response, as plain data. Header names are lower case."""

    __slots__ = ()
    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    def __new__(cls, status: int, headers: Mapping[str, str], body: bytes = b"") -> Response:
        return _tuple_new(cls, (status, headers, body))

    def __repr__(self) -> str:
        return f"Response(status={self.status}, headers=<{len(self.headers)}>, body=<{len(self.body)} bytes>)"

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON; raises ``ValueError`` if it is not JSON."""
        return json.loads(self.body)


@final
@_fields("seconds")
class Sleep(_Value):
    """Ask the driver to pause (``time.sleep`` or ``asyncio.sleep``) for ``seconds``."""

    __slots__ = ()
    seconds: float

    def __new__(cls, seconds: float) -> Sleep:
        return _tuple_new(cls, (seconds,))


@final
@_fields("fn", "blocking")
class Call(_Value):
    """Ask the driver to call ``fn()`` and send back its result.

    The core uses it for authorizer methods that may do network I/O (a token
    refresh); an authorizer known to answer from memory (``may_block = False``, or
    :class:`~automate_lite.BearerTokenAuthorizer`) is called inside the operation
    instead, which saves a round trip through the driver on every request.
    ``blocking=True`` tells the async driver to run ``fn`` in a worker thread so the
    event loop never blocks; ``False`` means it is cheap and may run inline.
    """

    __slots__ = ()
    fn: Callable[[], Any]
    blocking: bool = True

    def __new__(cls, fn: Callable[[], Any], blocking: bool = True) -> Call:
        return _tuple_new(cls, (fn, blocking))

    def __repr__(self) -> str:
        return f"Call(blocking={self.blocking!r})"


Instruction = Union[Request, Sleep, Call]
