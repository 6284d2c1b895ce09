"""``python -m benchmarks.expressions_bench [--quick]``: time per call of a typical ``.=`` expression.

The expression language has no peer to run beside it (globus-automate-client never
evaluated expressions; the service does it remotely), so the floor is a plain Python
dict lookup measured in the same run: each row prints microseconds per call and its
ratio to that floor. Rows:

* ``parse+evaluate``: the text is read afresh every call (the parse cache is cleared),
  what the first run of a new definition pays;
* ``evaluate (cached text)``: ``evaluate(text, state)`` as the local runner calls it
  for a definition it has seen;
* ``evaluate (parsed)``: ``evaluate(parse(text), state)`` with the tree kept by the caller;
* ``native Python``: the same computation written in Python, for scale.

Each figure is the best of several repeats of many calls (the least disturbed by the
other processes on the machine).
"""

from __future__ import annotations

import argparse
import sys
import timeit
from typing import Any, Callable

from automate_lite.definitions import expressions

STATE: dict[str, Any] = {
    "source": {"id": "c1", "path": "/data/run7/"},
    "destination": {"id": "c2", "path": "/~/incoming/"},
    "listing": {"details": {"DATA": [{"name": f"file{i}.h5", "type": "file"} for i in range(3)]}},
}

#: name -> (expression, the same in Python)
CASES: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "path tail": (
        "destination.path + source.path.rstrip('/').rpartition('/')[2]",
        lambda s: s["destination"]["path"] + s["source"]["path"].rstrip("/").rpartition("/")[2],
    ),
    "transfer items": (
        "[{'source_path': source.path.rstrip('/') + '/' + e.name, "
        "'destination_path': destination.path.rstrip('/') + '/' + e.name} for e in listing.details.DATA]",
        lambda s: [
            {
                "source_path": s["source"]["path"].rstrip("/") + "/" + e["name"],
                "destination_path": s["destination"]["path"].rstrip("/") + "/" + e["name"],
            }
            for e in s["listing"]["details"]["DATA"]
        ],
    ),
}


def per_call_us(fn: Callable[[], Any], number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    args = parser.parse_args(argv)
    number, repeat = (200, 3) if args.quick else (5_000, 7)
    state = STATE

    floor = per_call_us(lambda: state["source"]["path"], number * 20, repeat)
    print(f"floor: plain dict lookup state['source']['path'] = {floor:.3f} us per call")
    print(f"{'case':<16} {'measure':<24} {'us/call':>10} {'x floor':>10}")
    for name, (text, native) in CASES.items():
        assert expressions.evaluate(text, state) == native(state), name
        parsed = expressions.parse(text)
        clear = expressions._parse_cached.cache_clear

        def fresh(text: str = text) -> Any:
            clear()
            return expressions.evaluate(text, state)

        rows = [
            ("parse+evaluate", fresh),
            ("evaluate (cached text)", lambda text=text: expressions.evaluate(text, state)),
            ("evaluate (parsed)", lambda parsed=parsed: expressions.evaluate(parsed, state)),
            ("native Python", lambda native=native: native(state)),
        ]
        for label, fn in rows:
            us = per_call_us(fn, number, repeat)
            print(f"{name:<16} {label:<24} {us:>10.2f} {us / floor:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
