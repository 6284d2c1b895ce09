"""The sync and async clients must not drift apart: same public methods, same signatures."""

from __future__ import annotations

import inspect

import pytest

import automate_lite as al

# Documented differences: the sync client's ``action_scope`` is a property (as in the
# original SDK) and the async one a method; sync closes with close(), async with aclose().
_ALLOWED_ONLY_SYNC = {"close", "action_scope"}
_ALLOWED_ONLY_ASYNC = {"aclose", "action_scope"}


def _shape(p: inspect.Parameter) -> tuple[object, ...]:
    # The transport's annotation differs by design (a sync vs an async transport).
    annotation = None if p.name == "transport" else p.annotation
    return (p.name, p.kind, p.default, annotation)


def _public(cls: type) -> dict[str, object]:
    return {name: member for name, member in inspect.getmembers(cls) if not name.startswith("_")}


@pytest.mark.parametrize(
    "sync_cls, async_cls",
    [(al.ActionClient, al.AsyncActionClient), (al.FlowsClient, al.AsyncFlowsClient)],
)
def test_same_methods_and_signatures(sync_cls: type, async_cls: type) -> None:
    sync_members, async_members = _public(sync_cls), _public(async_cls)
    assert set(sync_members) - set(async_members) - _ALLOWED_ONLY_SYNC == set()
    assert set(async_members) - set(sync_members) - _ALLOWED_ONLY_ASYNC == set()
    for name in sorted(set(sync_members) & set(async_members) - {"action_scope"}):
        s, a = sync_members[name], async_members[name]
        if not callable(s):
            continue
        s_sig, a_sig = inspect.signature(s), inspect.signature(a)  # type: ignore[arg-type]
        assert [_shape(p) for p in s_sig.parameters.values()] == [_shape(p) for p in a_sig.parameters.values()], name
        if name == "new_client" or s is a:  # shared, non-I/O helpers live on a common base
            continue
        if name.startswith("iter_"):
            assert not inspect.iscoroutinefunction(a), name
        elif inspect.isfunction(s) and not isinstance(inspect.getattr_static(sync_cls, name), (classmethod, staticmethod)):
            assert inspect.iscoroutinefunction(a), f"{async_cls.__name__}.{name} should be async"


def test_every_public_method_is_documented() -> None:
    for cls in (al.ActionClient, al.AsyncActionClient, al.FlowsClient, al.AsyncFlowsClient, al.ActionOps, al.FlowOps):
        for name, member in _public(cls).items():
            if callable(member):
                assert inspect.getdoc(member), f"{cls.__name__}.{name} has no docstring"


def test_client_methods_are_their_operations() -> None:
    """Every method bound from an operation has that operation's parameters, exactly."""
    from automate_lite._core.bind import BOUND_OP

    for cls in (al.ActionClient, al.AsyncActionClient, al.FlowsClient, al.AsyncFlowsClient):
        bound = {n: m for n, m in _public(cls).items() if hasattr(m, BOUND_OP)}
        assert len(bound) >= 15, cls
        for name, method in bound.items():
            op = getattr(method, BOUND_OP)
            assert list(inspect.signature(method).parameters.values()) == list(inspect.signature(op).parameters.values()), name
