"""The agent's event loops: uvloop when installed, asyncio's own otherwise."""

import asyncio
import sys

import pytest

from agent.loop import new_event_loop, run


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


@pytest.mark.parametrize("installed", [True, False], ids=["uvloop", "no-uvloop"])
def test_run_and_new_event_loop_use_uvloop_only_when_installed(installed, monkeypatch):
    if not installed:
        monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` now raises ImportError
    expected = "uvloop" if installed else "asyncio"
    assert run(_loop_module()).startswith(expected)
    loop = new_event_loop()
    try:
        assert loop.run_until_complete(_loop_module()).startswith(expected)
    finally:
        loop.close()
